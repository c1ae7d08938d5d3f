//! Named series of (x, y) points as lines with markers: accuracy against the number of
//! parameters (deep vs shallow at equal size), or any other curve, with a legend on the right.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::plot::{
    Drawn, Entry, FONT, Figure, colour, legend, legend_width, marker, render, series_shape,
};
use crate::error::{Error, Result};

/// Pixel size of a line plot.
pub const LINES_SIZE: (u32, u32) = (1200, 800);
/// Least width of the legend column on the right.
const LEGEND_W: u32 = 240;

/// One named curve; points are drawn in the order given.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// (x, y) points, joined in the order given.
    pub points: Vec<(f64, f64)>,
    /// Half-length of a vertical error bar at each point (e.g. a standard deviation over
    /// seeds); empty: no bars.
    pub errors: Vec<f64>,
}

impl Series {
    /// A series named `name`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            errors: Vec::new(),
        }
    }

    /// This series with a vertical error bar of half-length `errors[i]` at point `i`.
    pub fn with_errors(mut self, errors: Vec<f64>) -> Series {
        self.errors = errors;
        self
    }
}

struct Lines<'a> {
    series: &'a [Series],
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    log_x: bool,
}

/// Draw `series` as lines with markers into `path` (PNG or SVG by extension, 1200 × 800), with a
/// logarithmic x axis when `log_x` (then every x must be positive).
pub fn line_plot(
    path: &Path,
    series: &[Series],
    title: &str,
    x_label: &str,
    y_label: &str,
    log_x: bool,
) -> Result<()> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    if let Some(s) = series
        .iter()
        .find(|s| !s.errors.is_empty() && s.errors.len() != s.points.len())
    {
        return Err(Error::invalid(format!(
            "{}: series '{}' has {} points but {} error bars",
            path.display(),
            s.name,
            s.points.len(),
            s.errors.len()
        )));
    }
    if let Some(s) = series
        .iter()
        .find(|s| s.errors.iter().any(|e| !(e.is_finite() && *e >= 0.0)))
    {
        return Err(Error::invalid(format!(
            "{}: series '{}' has an error bar that is negative or not a number",
            path.display(),
            s.name
        )));
    }
    if all().next().is_none() {
        return Err(Error::invalid(format!(
            "{}: no points to draw",
            path.display()
        )));
    }
    if let Some((s, p)) = series
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s, p)))
        .find(|(_, p)| !p.0.is_finite() || !p.1.is_finite() || (log_x && p.0 <= 0.0))
    {
        return Err(Error::invalid(format!(
            "{}: series '{}' has point ({}, {}), which cannot be drawn{}",
            path.display(),
            s.name,
            p.0,
            p.1,
            if log_x { " on a log axis" } else { "" }
        )));
    }
    let figure = Lines {
        series,
        title,
        x_label,
        y_label,
        log_x,
    };
    render(path, LINES_SIZE, &figure)
}

/// Accuracy (%) against the number of parameters on a log axis, one series per model family
/// (e.g. "deep (L layers)" and "one hidden layer").
pub fn accuracy_vs_params(
    path: &Path,
    series: &[Series],
    title: &str,
    y_label: &str,
) -> Result<()> {
    line_plot(path, series, title, "parameters", y_label, true)
}

/// Compact number for tick labels: 1200 -> "1.2k", 3500000 -> "3.5M".
fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{unit}")
}

impl Lines<'_> {
    fn draw_on<DB, X>(&self, area: &DrawingArea<DB, Shift>, x: X) -> Drawn<DB>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        // The y range holds the error bars too.
        let ys = self.series.iter().flat_map(|s| {
            s.points.iter().enumerate().flat_map(move |(i, p)| {
                let e = s.errors.get(i).copied().unwrap_or(0.0);
                [p.1 - e, p.1 + e]
            })
        });
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let m = if hi > lo { 0.08 * (hi - lo) } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(x, lo - m..hi + m)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_labels(6)
            .x_label_formatter(&|v| compact(*v))
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 22))
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.15))
            .draw()?;
        for (i, s) in self.series.iter().enumerate() {
            chart.draw_series(LineSeries::new(
                s.points.iter().copied(),
                colour(i).stroke_width(3),
            ))?;
        }
        let plot = chart.plotting_area();
        let (ox, oy) = area.get_base_pixel();
        for (i, s) in self.series.iter().enumerate() {
            for (k, p) in s.points.iter().enumerate() {
                let (px, py) = plot.map_coordinate(p);
                let (x, y) = (px - ox, py - oy);
                if let Some(&e) = s.errors.get(k).filter(|e| **e > 0.0) {
                    let (_, top) = plot.map_coordinate(&(p.0, p.1 + e));
                    let (_, bottom) = plot.map_coordinate(&(p.0, p.1 - e));
                    let (top, bottom) = (top - oy, bottom - oy);
                    let style = colour(i).stroke_width(2);
                    for line in [
                        vec![(x, top), (x, bottom)],
                        vec![(x - 7, top), (x + 7, top)],
                        vec![(x - 7, bottom), (x + 7, bottom)],
                    ] {
                        area.draw(&PathElement::new(line, style))?;
                    }
                }
                marker(area, (x, y), 6, series_shape(i), colour(i))?;
            }
        }
        Ok(())
    }
}

impl Figure for Lines<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let titled = root
            .margin(10, 0, 0, 0)
            .titled(self.title, (FONT, 30).into_font().style(FontStyle::Bold))?;
        let (w, _) = titled.dim_in_pixel();
        let entries: Vec<Entry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| Entry {
                name: &s.name,
                colour: colour(i),
                shape: series_shape(i),
                line: true,
            })
            .collect();
        // Wide enough for the longest series name (up to 40 % of the figure).
        let legend_w = legend_width(&entries, 18).clamp(LEGEND_W, w * 2 / 5);
        let (main, side) = titled.split_horizontally(w - legend_w);
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        if self.log_x {
            // Start at a power of ten, so that the tick labels include one below the data.
            let (lo, hi) = (10f64.powf((lo / 1.3).log10().floor()), hi * 1.3);
            self.draw_on(&main, (lo..hi).log_scale())?;
        } else {
            let m = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
            self.draw_on(&main, lo - m..hi + m)?;
        }
        legend(&side.margin(60, 0, 0, 0), "", &entries)
    }
}
