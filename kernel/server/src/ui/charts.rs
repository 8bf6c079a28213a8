//! Line charts as SVG coordinates: the board's compliance trend and each
//! metric's history. Templates draw the polyline and the points.

use serde::Serialize;

/// A chart's series placed in its plot area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `x,y x,y ...` for an SVG polyline.
    pub points: String,
    /// Each point, for markers.
    pub dots: Vec<(f64, f64)>,
}

/// Places `values` (oldest first) in the plot area `(x, y, width, height)`,
/// with `lo` at the bottom and `hi` at the top; one value sits in the middle.
pub fn line(values: &[f64], lo: f64, hi: f64, area: (f64, f64, f64, f64)) -> Line {
    let (x, y, width, height) = area;
    let span = if hi > lo { hi - lo } else { 1.0 };
    let steps = values.len().saturating_sub(1).max(1) as f64;
    let dots: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let px = if values.len() == 1 {
                x + width / 2.0
            } else {
                x + width * i as f64 / steps
            };
            let py = y + height - height * ((v - lo) / span).clamp(0.0, 1.0);
            ((px * 10.0).round() / 10.0, (py * 10.0).round() / 10.0)
        })
        .collect();
    let points = dots
        .iter()
        .map(|(a, b)| format!("{a:.1},{b:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    Line { points, dots }
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn values_span_the_area_from_left_to_right_and_bottom_to_top() {
        let l = line(&[0.0, 50.0, 100.0], 0.0, 100.0, (40.0, 10.0, 540.0, 100.0));
        assert_eq!(l.dots, vec![(40.0, 110.0), (310.0, 60.0), (580.0, 10.0)]);
        assert_eq!(l.points, "40.0,110.0 310.0,60.0 580.0,10.0");
    }

    #[test]
    fn one_value_sits_in_the_middle_and_out_of_range_values_are_clamped() {
        assert_eq!(
            line(&[2.0], 0.0, 1.0, (0.0, 0.0, 100.0, 50.0)).dots,
            vec![(50.0, 0.0)]
        );
        assert!(line(&[], 0.0, 1.0, (0.0, 0.0, 100.0, 50.0))
            .points
            .is_empty());
    }
}
