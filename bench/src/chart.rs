//! The charts of `docs/performance.md` (`docs/perf/*.svg`), drawn from the same samples as
//! its tables in the same run, so that they are never out of date or drawn by hand.

use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::report::{binding_costs, ratios};
use crate::stores::Res;
use crate::{Config, Samples};

/// One chart: its file in `perf/`, its alt text, its title, the reference line and which
/// side of it is good, and its rows (label, value).
struct Chart {
    file: &'static str,
    alt: &'static str,
    title: &'static str,
    mark: f64,
    good: fn(f64) -> bool,
    rows: fn(&Config, &Samples) -> Vec<(String, f64)>,
}

const CHARTS: [Chart; 2] = [
    Chart {
        file: "ratios.svg",
        alt: "DocDB / best peer per workload",
        title: "DocDB / best peer (above 1 = DocDB ahead; log scale)",
        mark: 1.0,
        good: |v| v >= 1.0,
        rows: ratios,
    },
    Chart {
        file: "bindings.svg",
        alt: "binding cost per language",
        title:
            "Cost of a DocDB call vs the same call from Rust (target <= 2x for reads; log scale)",
        mark: 2.0,
        good: |v| v <= 2.0,
        rows: binding_rows,
    },
];

/// Each language's point read and durable commit cost, as one bar each.
fn binding_rows(_: &Config, s: &Samples) -> Vec<(String, f64)> {
    binding_costs(s)
        .into_iter()
        .flat_map(|(lang, read, commit)| {
            [
                (format!("{lang}: point read"), read),
                (format!("{lang}: durable commit"), commit),
            ]
        })
        .collect()
}

/// Where the charts go: `perf/` next to the report.
pub fn dir(cfg: &Config) -> PathBuf {
    cfg.out
        .parent()
        .map_or_else(|| PathBuf::from("perf"), |p| p.join("perf"))
}

/// Markdown that shows the charts [`write_all`] draws, for a report written next to `perf/`.
pub fn links(cfg: &Config, s: &Samples) -> String {
    let mut o = String::from(
        "\n## Charts\n\nDrawn by the bench from the figures above (`bench/src/chart.rs`).\n",
    );
    for c in CHARTS.iter().filter(|c| !(c.rows)(cfg, s).is_empty()) {
        o += &format!("\n![{}](perf/{})\n", c.alt, c.file);
    }
    o
}

/// Draws every chart that has data into [`dir`].
pub fn write_all(cfg: &Config, s: &Samples) -> Res<()> {
    let dir = dir(cfg);
    std::fs::create_dir_all(&dir)?;
    for c in &CHARTS {
        let rows = (c.rows)(cfg, s);
        if !rows.is_empty() {
            bars(&dir.join(c.file), c.title, &rows, c.mark, c.good)?;
        }
    }
    Ok(())
}

/// A horizontal bar per row on a log scale, first row on top, a vertical line at `mark`,
/// bars green where `good` holds and red elsewhere, each labelled with its value.
fn bars(
    path: &Path,
    title: &str,
    rows: &[(String, f64)],
    mark: f64,
    good: fn(f64) -> bool,
) -> Res<()> {
    // Plotters counts rows from the bottom.
    let rows: Vec<(String, f64)> = rows
        .iter()
        .rev()
        .filter(|(_, v)| v.is_finite() && *v > 0.0)
        .cloned()
        .collect();
    let n = rows.len() as i32;
    // Whole decades around the values and the mark, at least 1e-4 (memory and open-time
    // ratios can be tiny).
    let lo = rows.iter().map(|r| r.1).fold(mark, f64::min).max(1e-4);
    let hi = rows.iter().map(|r| r.1).fold(mark, f64::max);
    let (lo, hi) = (
        10f64.powf(lo.log10().floor()),
        10f64.powf((hi.log10() + 0.15).ceil()),
    );
    let height = 90 + 26 * n.max(1) as u32;
    let area = SVGBackend::new(path, (1100, height)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    area.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(420)
        .build_cartesian_2d((lo..hi).log_scale(), (0..n).into_segmented())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len().max(1))
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => rows
                .get(*i as usize)
                .map(|r| r.0.clone())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .x_label_formatter(&|x| format!("{x}x"))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            let color = if good(*v) {
                RGBColor(46, 139, 87)
            } else {
                RGBColor(200, 60, 50)
            };
            let i = i as i32;
            let mut bar = Rectangle::new(
                [
                    (lo, SegmentValue::Exact(i)),
                    (v.max(lo), SegmentValue::Exact(i + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            Text::new(
                format!(" {}x", crate::report::num(*v)),
                (v.max(lo), SegmentValue::CenterOf(i as i32)),
                ("sans-serif", 12),
            )
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![
                (mark, SegmentValue::Exact(0)),
                (mark, SegmentValue::Exact(n)),
            ],
            BLACK.stroke_width(2),
        )))
        .map_err(|e| err(&e))?;
    area.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_draw_every_row_with_its_label_and_value() {
        let dir = std::env::temp_dir().join(format!("docdb-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.svg");
        let rows = vec![
            ("fast workload".to_string(), 3.5),
            ("slow workload".to_string(), 0.25),
            ("no figure".to_string(), f64::NAN),
        ];
        bars(&path, "test chart", &rows, 1.0, |v| v >= 1.0).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        for text in [
            "test chart",
            "fast workload",
            "slow workload",
            "3.50x",
            "0.25x",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(!svg.contains("no figure"));
        // One green and one red bar.
        assert!(svg.contains("#2E8B57") && svg.contains("#C83C32"));
    }
}
