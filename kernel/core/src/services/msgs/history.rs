//! The board's history (issue 7.6): every change of a board figure with its
//! time and cause, filtered by control and date.

use chrono::NaiveDate;

use crate::access::Principal;
use mmsm_engine::{Board, Subject};
use mmsm_model::ControlId;
use mmsm_store::Repo;

use serde::{Deserialize, Serialize};

use super::{HistoryEvent, Kernel, Result};

/// The board's headline figures at one moment of its history: what the trend
/// charts and the statistics read, stored at `board/{isms}/{stamp}` beside
/// each history event. A few dozen bytes instead of the whole board (whose
/// control rows the current record holds); stores written before keep whole
/// boards there, which read as points since the field names are the board's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardPoint {
    /// ISMS compliance, 0..100.
    #[serde(default)]
    pub compliance: Option<f64>,
    /// Current and target maturity level.
    pub maturity: MaturityPoint,
    /// Risk aggregates.
    pub risk: RiskPoint,
    /// Subcontrols to review.
    #[serde(default)]
    pub flagged: usize,
}

/// The levels of a [`BoardPoint`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaturityPoint {
    /// Current maturity level.
    pub current: u8,
    /// Target maturity level.
    pub target: u8,
}

/// The risk of a [`BoardPoint`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskPoint {
    /// The highest residual risk.
    pub max: f64,
    /// The mean residual risk.
    #[serde(default)]
    pub mean: f64,
    /// The sum of the residual risks.
    #[serde(default)]
    pub total: f64,
}

impl BoardPoint {
    /// The headline figures of `board`.
    pub fn of(board: &Board) -> Self {
        BoardPoint {
            compliance: board.compliance,
            maturity: MaturityPoint {
                current: board.maturity.current,
                target: board.maturity.target,
            },
            risk: RiskPoint {
                max: board.risk.max,
                mean: board.risk.mean,
                total: board.risk.total,
            },
            flagged: board.flagged,
        }
    }
}

/// Which events of the history to show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    /// Only events that moved this control, or concern it.
    pub control: Option<ControlId>,
    /// Only events from this day on (UTC).
    pub since: Option<NaiveDate>,
}

impl HistoryFilter {
    /// Whether `event` passes the filter.
    pub fn keeps(&self, event: &HistoryEvent) -> bool {
        if let Some(since) = self.since {
            let start = since
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc().timestamp())
                .unwrap_or(0);
            if (event.at as i64) < start {
                return false;
            }
        }
        if let Some(control) = &self.control {
            let subject = Subject::Control(control.clone());
            let reference = format!("control:{control}");
            return event.deltas.iter().any(|d| d.subject == subject)
                || event.refs.contains(&reference);
        }
        true
    }
}

impl Kernel {
    /// The history of an ISMS's board, oldest first, filtered.
    pub fn isms_history_filtered(
        &self,
        principal: &Principal,
        id: &str,
        filter: &HistoryFilter,
    ) -> Result<Vec<HistoryEvent>> {
        Ok(self
            .isms_history(principal, id)?
            .into_iter()
            .filter(|e| filter.keeps(e))
            .collect())
    }

    /// The boards as recorded after each change, oldest first, with their time
    /// (for trend charts).
    pub fn board_trend(&self, principal: &Principal, id: &str) -> Result<Vec<(u64, BoardPoint)>> {
        let record = self.isms(principal, id)?;
        let events = self.isms_history(principal, id)?;
        let boards: Vec<(String, BoardPoint)> = self
            .store()
            .scan(Repo::Info, &format!("board/{}/", record.id))?;
        Ok(events
            .iter()
            .map(|e| e.at)
            .zip(boards.into_iter().map(|(_, b)| b))
            .collect())
    }
}
