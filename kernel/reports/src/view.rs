//! The report view: everything the report templates show, computed in Rust
//! (chart geometry included), rendered by minijinja templates.

use mmsm_kernel::services::msgs::BoardPoint;
use serde::Serialize;

use mmsm_engine::{Board, PlanItem, RiskRow};
use mmsm_kernel::services::IsmsRecord;
use mmsm_model::Schema;

use super::soa::SoaRow;

/// The report, ready for a template.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    /// The enterprise's name.
    pub enterprise: String,
    /// Whether the speaker approved it, in words ("draft, not approved by the speaker").
    #[serde(default)]
    pub approval: String,
    /// The level certificates with their state, in words.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// The open findings with their state, in words.
    #[serde(default)]
    pub findings: Vec<String>,
    /// Sector, head count, turnover as one line.
    pub profile_line: String,
    /// The ISMS id.
    pub isms: String,
    /// The date of the report (YYYY-MM-DD, UTC).
    pub date: String,
    /// The schema and version.
    pub schema: String,
    /// Why this schema.
    pub schema_reason: String,
    /// ISMS compliance, 0..100.
    pub compliance: Option<f64>,
    /// Current maturity level.
    pub current: u8,
    /// Target maturity level.
    pub target: u8,
    /// Per level: compliance, threshold, reached.
    pub levels: Vec<LevelView>,
    /// The maturity gauge's needle end point (SVG coordinates).
    pub gauge_needle: (f64, f64),
    /// Per domain.
    pub domains: Vec<DomainView>,
    /// The 5x5 heat map: rows from very high probability down, columns from low impact up.
    pub heat_map: Vec<Vec<HeatCell>>,
    /// Risk aggregates.
    pub risk_max: f64,
    /// Mean asset risk.
    pub risk_mean: f64,
    /// Pairs per risk band.
    pub risk_bands: Vec<BandCount>,
    /// Pairs per band of their heat-map cell: the potential risk the map's
    /// colours show, before the controls.
    pub potential_bands: Vec<BandCount>,
    /// The highest residual risks.
    pub top_risks: Vec<RiskView>,
    /// The ordered improvement plan.
    pub plan: Vec<PlanView>,
    /// The Statement of Applicability.
    pub soa: Vec<SoaRow>,
    /// Regulations in force.
    pub regulations: Vec<String>,
    /// Procedures to execute.
    pub procedures: Vec<String>,
    /// Templates, registers and instructions.
    pub artefacts: Vec<String>,
    /// Users and their roles.
    pub users: Vec<String>,
    /// Unanswered or unknown questions to review.
    pub flagged: usize,
    /// The board's history as chart lines (empty with fewer than two snapshots).
    pub trend: Option<TrendView>,
    /// The obligations of the legal catalogue that apply, and how far each is met.
    #[serde(default)]
    pub obligations: Vec<crate::ObligationRow>,
    /// The obligations that may apply, with the business question that decides.
    #[serde(default)]
    pub obligations_undetermined: Vec<String>,
    /// The obligations in one sentence: `34 obligations of the legal catalogue apply: 2 met, 30 partly met, 2 not met.`
    pub obligations_summary: String,
    /// The requirements of the management system itself (ISO/IEC 27001 clauses 4-10)
    /// not fully met, in words, in schema order.
    #[serde(default)]
    pub management_gaps: Vec<String>,
}

/// Compliance and highest risk over time: the figures and the chart.
#[derive(Debug, Clone, Serialize)]
pub struct TrendView {
    /// Number of board snapshots.
    pub snapshots: usize,
    /// First snapshot's date.
    pub from: String,
    /// Last snapshot's date.
    pub to: String,
    /// First and last compliance.
    pub compliance_change: (f64, f64),
    /// First and last highest risk.
    pub risk_change: (f64, f64),
    /// The chart as SVG markup (numbers and dates only): the snapshots
    /// placed by their time on a dated x axis, compliance (%) on the left
    /// axis, the highest residual risk (0-100) on the right one, and a legend.
    pub svg: String,
}

/// The plot area of the trend chart: left, top, width, height.
const PLOT: (f64, f64, f64, f64) = (60.0, 30.0, 480.0, 120.0);

/// The trend of a series of board snapshots `(time, board)`, oldest first.
pub fn trend_view(snapshots: &[(u64, BoardPoint)]) -> Option<TrendView> {
    if snapshots.len() < 2 {
        return None;
    }
    let compliance = |b: &BoardPoint| b.compliance.unwrap_or(0.0);
    let risk = |b: &BoardPoint| b.risk.max;
    let (first, last) = (&snapshots[0], &snapshots[snapshots.len() - 1]);
    Some(TrendView {
        snapshots: snapshots.len(),
        from: date_of(first.0),
        to: date_of(last.0),
        compliance_change: (compliance(&first.1), compliance(&last.1)),
        risk_change: (risk(&first.1), risk(&last.1)),
        svg: trend_svg(snapshots, &compliance, &risk),
    })
}

fn trend_svg(
    snapshots: &[(u64, BoardPoint)],
    compliance: &dyn Fn(&BoardPoint) -> f64,
    risk: &dyn Fn(&BoardPoint) -> f64,
) -> String {
    let (left, top, width, height) = PLOT;
    let (t0, t1) = (snapshots[0].0, snapshots[snapshots.len() - 1].0);
    let span = t1.saturating_sub(t0).max(1) as f64;
    let x = |t: u64| left + width * t.saturating_sub(t0) as f64 / span;
    let y = |v: f64| top + height - height * v.clamp(0.0, 100.0) / 100.0;
    let points = |value: &dyn Fn(&BoardPoint) -> f64| {
        snapshots
            .iter()
            .map(|(t, b)| format!("{:.1},{:.1}", x(*t), y(value(b))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Within two days the time of day tells the changes apart.
    let label = |t: u64| {
        let format = if t1 - t0 < 2 * 86400 {
            "%Y-%m-%d %H:%M"
        } else {
            "%Y-%m-%d"
        };
        chrono::DateTime::from_timestamp(t as i64, 0)
            .map(|d| d.format(format).to_string())
            .unwrap_or_default()
    };
    let bottom = top + height;
    let right = left + width;
    let mut svg = format!(
        r##"<svg role="img" aria-labelledby="trend-title" width="100%" height="200" viewBox="0 0 600 200">
<title id="trend-title">Compliance (%, left axis) and highest residual risk (0-100, right axis) from {from} to {to}</title>
<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="#f6f8fa"/>
<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#1f4e79"/>
<line x1="{right}" y1="{top}" x2="{right}" y2="{bottom}" stroke="#c62828"/>
<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>
<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="#1f4e79">100 %</text><text x="{lx}" y="{by}" font-size="11" text-anchor="end" fill="#1f4e79">0 %</text>
<text x="{rx}" y="{ty}" font-size="11" fill="#c62828">100</text><text x="{rx}" y="{by}" font-size="11" fill="#c62828">0</text>
<text x="{lx}" y="{uy}" font-size="11" text-anchor="end" fill="#1f4e79">compliance</text><text x="{rx}" y="{uy}" font-size="11" fill="#c62828">risk</text>
"##,
        from = label(t0),
        to = label(t1),
        lx = left - 4.0,
        rx = right + 4.0,
        ty = top + 4.0,
        by = bottom + 4.0,
        uy = top - 8.0,
    );
    let middle = t0 + (t1 - t0) / 2;
    for (t, anchor) in [(t0, "start"), (middle, "middle"), (t1, "end")] {
        if t1 == t0 && t != t0 {
            continue;
        }
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="{anchor}">{}</text>
"##,
            x(t),
            bottom + 16.0,
            label(t)
        ));
    }
    svg.push_str(&format!(
        r##"<polyline points="{}" fill="none" stroke="#1f4e79" stroke-width="2.5"/>
<polyline points="{}" fill="none" stroke="#c62828" stroke-width="2.5" stroke-dasharray="6 3"/>
<line x1="{left}" y1="190" x2="{}" y2="190" stroke="#1f4e79" stroke-width="2.5"/><text x="{}" y="194" font-size="11">Compliance (%)</text>
<line x1="{}" y1="190" x2="{}" y2="190" stroke="#c62828" stroke-width="2.5" stroke-dasharray="6 3"/><text x="{}" y="194" font-size="11">Highest residual risk (0-100)</text>
</svg>"##,
        points(compliance),
        points(risk),
        left + 24.0,
        left + 30.0,
        left + 160.0,
        left + 184.0,
        left + 190.0,
    ));
    svg
}

/// A maturity level in the report.
#[derive(Debug, Clone, Serialize)]
pub struct LevelView {
    /// 1..3.
    pub level: u8,
    /// Its name.
    pub name: String,
    /// C_L, 0..100.
    pub compliance: Option<f64>,
    /// Threshold, 0..100.
    pub threshold: f64,
    /// Reached?
    pub reached: bool,
    /// Mandatory questions of the level not fully met.
    pub mandatory_failing: usize,
}

/// A domain bar.
#[derive(Debug, Clone, Serialize)]
pub struct DomainView {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// Compliance, 0..100.
    pub compliance: Option<f64>,
    /// Bar colour.
    pub color: String,
}

/// One cell of the heat map.
#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    /// Pairs in the cell.
    pub count: usize,
    /// Background colour: the risk band of the cell's centre.
    pub color: String,
    /// That band's index.
    #[serde(skip)]
    pub band: usize,
}

/// Pairs in one risk band.
#[derive(Debug, Clone, Serialize)]
pub struct BandCount {
    /// The band's label.
    pub label: String,
    /// Pairs in it.
    pub count: usize,
    /// Its colour.
    pub color: String,
}

/// A risk row for people.
#[derive(Debug, Clone, Serialize)]
pub struct RiskView {
    /// Asset name.
    pub asset: String,
    /// Threat id and name.
    pub threat: String,
    /// Potential risk.
    pub potential: f64,
    /// Vulnerability.
    pub vulnerability: f64,
    /// Residual risk.
    pub residual: f64,
    /// Band label.
    pub level: String,
    /// Band colour.
    pub color: String,
}

/// A plan item for people.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    /// Rank.
    pub rank: usize,
    /// Control id and title.
    pub control: String,
    /// Level.
    pub level: u8,
    /// The questions to fix.
    pub actions: Vec<String>,
    /// Effort.
    pub effort: f64,
    /// Risk reduction.
    pub risk_reduction: f64,
}

const GREY: &str = "#9e9e9e";

/// Builds the view of an ISMS's report.
#[allow(clippy::too_many_arguments)]
pub fn report_view(
    schema: &Schema,
    record: &IsmsRecord,
    board: &Board,
    risks: &[RiskRow],
    plan: &[PlanItem],
    soa: Vec<SoaRow>,
    trend: Option<TrendView>,
    now: u64,
) -> ReportView {
    let bands = schema.risk_bands();
    let band_of = |value: f64| -> usize {
        bands
            .iter()
            .position(|b| value >= b.from && value < b.to)
            .unwrap_or(if value < bands.first().map_or(0.0, |b| b.from) {
                0
            } else {
                bands.len().saturating_sub(1)
            })
    };
    let color_of = |i: usize| {
        bands
            .get(i)
            .and_then(|b| b.color.clone())
            .unwrap_or_else(|| GREY.into())
    };
    let label_of = |i: usize| bands.get(i).map(|b| b.label.clone()).unwrap_or_default();
    let status = schema.status_bands();
    let status_color = |c: Option<f64>| match c {
        None => GREY.to_owned(),
        Some(c) if c < status.red => "#c62828".into(),
        Some(c) if c < status.amber => "#ef6c00".into(),
        Some(_) => "#2e7d32".into(),
    };

    let e = &record.enterprise;
    let level_name = |level: u8| {
        schema
            .maturity_levels
            .iter()
            .find(|m| m.level == level)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| format!("Level {level}"))
    };
    let levels = board
        .maturity
        .levels
        .iter()
        .map(|l| LevelView {
            level: l.level,
            name: level_name(l.level),
            compliance: l.compliance,
            threshold: l.threshold,
            reached: l.reached,
            mandatory_failing: l.mandatory_failing,
        })
        .collect();
    let angle = std::f64::consts::PI * (1.0 - f64::from(board.maturity.current) / 3.0);
    let gauge_needle = (100.0 + 80.0 * angle.cos(), 100.0 - 80.0 * angle.sin());
    let domains = board
        .domains
        .iter()
        .map(|d| DomainView {
            id: d.id.to_string(),
            name: schema
                .domains
                .iter()
                .find(|x| x.id == d.id)
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            compliance: d.compliance,
            color: status_color(d.compliance),
        })
        .collect();

    // Heat map: probability bands (rows, high first) x impact bands (columns).
    let mut heat_map: Vec<Vec<HeatCell>> = (0..5)
        .map(|row| {
            (0..5)
                .map(|col| {
                    let p = 100.0 - (row as f64 * 20.0 + 10.0);
                    let i = col as f64 * 20.0 + 10.0;
                    let band = band_of(i * p / 100.0);
                    HeatCell {
                        count: 0,
                        color: color_of(band),
                        band,
                    }
                })
                .collect()
        })
        .collect();
    let bucket = |v: f64| ((v / 20.0).ceil() as usize).clamp(1, 5) - 1;
    for r in risks {
        let row = 4 - bucket(r.probability);
        let col = bucket(r.impact);
        heat_map[row][col].count += 1;
    }

    let asset_name = |id: &str| {
        record
            .inputs
            .assets
            .iter()
            .find(|a| a.id.as_str() == id)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let threat_name = |id: &str| {
        schema
            .threats
            .iter()
            .find(|t| t.id.as_str() == id)
            .map(|t| format!("{id} {}", t.name))
            .unwrap_or_else(|| id.to_owned())
    };
    let mut sorted: Vec<&RiskRow> = risks.iter().collect();
    sorted.sort_by(|a, b| b.residual.total_cmp(&a.residual));
    let top_risks = sorted
        .iter()
        .take(10)
        .map(|r| RiskView {
            asset: asset_name(r.asset.as_str()),
            threat: threat_name(r.threat.as_str()),
            potential: r.potential,
            vulnerability: r.vulnerability,
            residual: r.residual,
            level: label_of(usize::from(r.level)),
            color: color_of(usize::from(r.level)),
        })
        .collect();
    let risk_bands = bands
        .iter()
        .enumerate()
        .map(|(i, b)| BandCount {
            label: b.label.clone(),
            count: board.risk.by_level.get(i).copied().unwrap_or(0),
            color: color_of(i),
        })
        .collect();
    // The map's own legend counts what its colours show: each pair in the
    // band of its cell (potential risk, before the controls).
    let potential_bands = bands
        .iter()
        .enumerate()
        .map(|(i, b)| BandCount {
            label: b.label.clone(),
            count: heat_map
                .iter()
                .flatten()
                .filter(|c| c.band == i)
                .map(|c| c.count)
                .sum(),
            color: color_of(i),
        })
        .collect();

    let subcontrol_text = |id: &str| {
        schema
            .subcontrols()
            .find(|(_, s)| s.id.as_str() == id)
            .map(|(_, s)| format!("{id}: {}", s.text))
            .unwrap_or_else(|| id.to_owned())
    };
    let control_title = |id: &str| {
        schema
            .controls
            .iter()
            .find(|c| c.id.as_str() == id)
            .map(|c| format!("{id} {}", c.title))
            .unwrap_or_else(|| id.to_owned())
    };
    let plan = plan
        .iter()
        .map(|p| PlanView {
            rank: p.rank,
            control: control_title(p.control.as_str()),
            level: p.level,
            actions: p
                .subcontrols
                .iter()
                .map(|s| subcontrol_text(s.as_str()))
                .collect(),
            effort: p.effort,
            risk_reduction: p.risk_reduction,
        })
        .collect();

    let name_in = |ids: &[String], lookup: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
        ids.iter()
            .map(|id| lookup(id).unwrap_or_else(|| id.clone()))
            .collect()
    };
    let inst = &record.instantiated;
    let regulations = name_in(
        &inst
            .regulations
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        &|id| {
            schema
                .regulations
                .iter()
                .find(|r| r.id.as_str() == id)
                .map(|r| r.name.clone())
        },
    );
    let procedures = name_in(
        &inst
            .procedures
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        &|id| {
            schema
                .procedures
                .iter()
                .find(|r| r.id.as_str() == id)
                .map(|r| r.name.clone())
        },
    );
    let artefacts = name_in(
        &inst
            .artefacts
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        &|id| {
            schema
                .artefacts
                .iter()
                .find(|r| r.id.as_str() == id)
                .map(|r| {
                    let kind = match r.kind {
                        mmsm_model::ArtefactKind::Template => "template",
                        mmsm_model::ArtefactKind::Register => "register",
                        mmsm_model::ArtefactKind::Instruction => "technical instruction",
                    };
                    format!("{} ({kind})", r.name)
                })
        },
    );
    let users = record
        .users
        .iter()
        .map(|u| {
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            format!("{} ({})", u.name, roles.join(", "))
        })
        .collect();

    let (obligations, undetermined): (Vec<_>, Vec<_>) =
        crate::obligation_rows(schema, board, &record.inputs.business)
            .into_iter()
            .filter(|o| o.applies != mmsm_model::Applicability::DoesNotApply)
            .partition(|o| o.applies == mmsm_model::Applicability::Applies);
    let obligations_summary = crate::obligations::summary(&obligations, undetermined.len());
    let obligations_undetermined = undetermined
        .iter()
        .map(|o| format!("{}: {}", o.label(), o.because))
        .collect();

    let management_gaps = schema
        .controls
        .iter()
        .filter(|c| schema.is_requirement(c))
        .filter_map(|c| {
            let compliance = board
                .controls
                .iter()
                .find(|x| x.id == c.id)
                .and_then(|x| x.compliance)?;
            (compliance < 100.0 - 1e-9).then(|| {
                let open: Vec<&str> = c
                    .subcontrols
                    .iter()
                    .filter(|s| record.inputs.answers.get(&s.id) != Some(&mmsm_model::Answer::Yes))
                    .map(|s| s.text.as_str())
                    .collect();
                format!(
                    "{} {} ({} %): {}",
                    c.id,
                    c.title,
                    fixed(compliance, 1),
                    open.join(" ")
                )
            })
        })
        .collect();

    ReportView {
        management_gaps,
        obligations,
        obligations_undetermined,
        obligations_summary,
        enterprise: e.name.clone(),
        approval: String::new(),
        certificates: Vec::new(),
        findings: Vec::new(),
        profile_line: format!(
            "Sector {}; {} employees{}",
            e.sector,
            e.employees,
            e.turnover_eur
                .map(|t| format!("; turnover {:.1} M EUR", t / 1e6))
                .unwrap_or_default()
        ),
        isms: record.id.to_string(),
        date: date_of(now),
        schema: format!("{} (version {})", record.schema.id, record.schema.version),
        schema_reason: record.schema.reason.clone(),
        compliance: board.compliance,
        current: board.maturity.current,
        target: board.maturity.target,
        levels,
        gauge_needle,
        domains,
        heat_map,
        risk_max: board.risk.max,
        risk_mean: board.risk.mean,
        risk_bands,
        potential_bands,
        top_risks,
        plan,
        soa,
        regulations,
        procedures,
        artefacts,
        users,
        flagged: board.flagged,
        trend,
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
fn date_of(seconds: u64) -> String {
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.add_filter("pct", |v: minijinja::Value| -> String {
        match f64::try_from(v) {
            Ok(x) => fixed(x, 1),
            Err(_) => "n/a".into(),
        }
    });
    env.add_filter("num", |v: f64| -> String { fixed(v, 2) });
    env.add_template("report.html", include_str!("templates/report.html.j2"))
        .expect("the HTML report template parses");
    env.add_template("report.md", include_str!("templates/report.md.j2"))
        .expect("the Markdown report template parses");
    env
}

/// The report as one self-contained HTML file with inline SVG charts.
pub fn render_html(view: &ReportView) -> Result<String, minijinja::Error> {
    environment()
        .get_template("report.html")?
        .render(minijinja::Value::from(minijinja::value::Serde(view)))
}

/// The report as Markdown. Every value is escaped: text people typed (names,
/// notes, titles) must not become HTML, which most Markdown viewers render,
/// nor break a table.
pub fn render_markdown(view: &ReportView) -> Result<String, minijinja::Error> {
    let mut env = environment();
    env.set_formatter(|out, _state, value| {
        if value.is_undefined() {
            return Ok(());
        }
        out.write_str(&markdown_text(&value.to_string()))
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    env.get_template("report.md")?
        .render(minijinja::Value::from(minijinja::value::Serde(view)))
}

/// `value` with `places` decimals, as people read it: never `-0.00` for a
/// value that rounds to zero (a plan item reducing no risk showed it).
pub fn fixed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => text,
    }
}

/// `text` as literal Markdown: HTML's special characters as entities and
/// table pipes escaped.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod number_tests {
    use super::fixed;

    #[test]
    fn numbers_never_read_minus_zero() {
        assert_eq!(fixed(-0.0, 2), "0.00");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-0.5, 1), "-0.5");
        assert_eq!(fixed(12.345, 1), "12.3");
    }
}

#[cfg(test)]
mod trend_tests {
    use super::{trend_view, PLOT};
    use mmsm_kernel::services::msgs::history::{BoardPoint, MaturityPoint, RiskPoint};

    fn point(compliance: f64, risk: f64) -> BoardPoint {
        BoardPoint {
            compliance: Some(compliance),
            maturity: MaturityPoint {
                current: 0,
                target: 1,
            },
            risk: RiskPoint {
                max: risk,
                mean: 0.0,
                total: 0.0,
            },
            flagged: 0,
        }
    }

    #[test]
    fn snapshots_sit_at_their_dates_with_two_labelled_axes_and_a_legend() {
        // Day 0, day 1 and day 10: the second point sits a tenth of the way.
        let day = 86_400;
        let t0 = 1_790_000_000;
        let trend = trend_view(&[
            (t0, point(40.0, 60.0)),
            (t0 + day, point(50.0, 55.0)),
            (t0 + 10 * day, point(80.0, 20.0)),
        ])
        .unwrap();
        let (left, top, width, height) = PLOT;
        let x1 = left + width / 10.0;
        let y1 = top + height - height * 0.5;
        assert!(
            trend.svg.contains(&format!("{x1:.1},{y1:.1}")),
            "{}",
            trend.svg
        );
        for words in [
            "Compliance (%)",
            "Highest residual risk (0-100)",
            "100 %",
            ">2026-09-21<",
            ">2026-10-01<",
        ] {
            assert!(trend.svg.contains(words), "{words} in {}", trend.svg);
        }
        assert_eq!(trend.compliance_change, (40.0, 80.0));
        assert_eq!(trend.risk_change, (60.0, 20.0));
    }

    #[test]
    fn changes_of_one_day_are_told_apart_by_their_time() {
        let t0 = 1_790_000_000;
        let trend = trend_view(&[(t0, point(40.0, 60.0)), (t0 + 3600, point(50.0, 55.0))]).unwrap();
        assert!(trend.svg.contains(">2026-09-21 14:13<"), "{}", trend.svg);
        assert!(trend.svg.contains(">2026-09-21 15:13<"), "{}", trend.svg);
        assert!(trend_view(&[(t0, point(40.0, 60.0))]).is_none());
    }
}
