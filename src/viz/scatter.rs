//! One 2-D scatter panel per layer in a grid, every point coloured by its label (speaker), with a
//! shared legend on the right: the Mohamed, Hinton & Penn (2012) style figure.

use std::path::Path;

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::plot::{
    Drawn, Entry, FONT, Figure, LabelStyle, colour, legend, legend_width, marker, render, shape,
};
use crate::error::{Error, Result};

/// Pixel size of a panel figure.
pub const PANELS_SIZE: (u32, u32) = (1600, 1000);
/// Width of the legend column on the right, unless its names need more (up to a third).
const LEGEND_W: u32 = 260;

/// One panel: a 2-D projection of some points and the label index of each.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Shown above the panel, e.g. "hidden layer 2".
    pub title: String,
    /// n × 2 coordinates.
    pub points: Array2<f32>,
    /// Label index of each point, into the `label_names` of [`scatter_panels`].
    pub labels: Vec<usize>,
    /// Axis captions, e.g. "t-SNE 1" / "t-SNE 2".
    pub x_label: String,
    /// Caption of the vertical axis.
    pub y_label: String,
}

impl Panel {
    /// A panel with axis captions "dimension 1" and "dimension 2".
    pub fn new(title: impl Into<String>, points: Array2<f32>, labels: Vec<usize>) -> Panel {
        Panel {
            title: title.into(),
            points,
            labels,
            x_label: "dimension 1".into(),
            y_label: "dimension 2".into(),
        }
    }

    /// Set both axis captions.
    pub fn axes(mut self, x_label: impl Into<String>, y_label: impl Into<String>) -> Panel {
        self.x_label = x_label.into();
        self.y_label = y_label.into();
        self
    }
}

struct Panels<'a> {
    panels: &'a [Panel],
    styles: Vec<LabelStyle>,
    title: &'a str,
    legend_title: &'a str,
}

/// Draw `panels` in a grid into `path` (PNG or SVG by extension, 1600 × 1000 pixels) under
/// `title`, with a legend titled `legend_title` (e.g. "speaker") naming every label in
/// `label_names` (label i in Tableau colour i, the shape changing every 20 labels).
pub fn scatter_panels(
    path: &Path,
    panels: &[Panel],
    label_names: &[String],
    title: &str,
    legend_title: &str,
) -> Result<()> {
    let styles: Vec<LabelStyle> = label_names
        .iter()
        .enumerate()
        .map(|(i, name)| LabelStyle {
            name: name.clone(),
            colour: colour(i),
            shape: shape(i),
        })
        .collect();
    scatter_panels_styled(path, panels, &styles, title, legend_title)
}

/// [`scatter_panels`] with a chosen colour and marker per label (`styles[label]`). A panel title
/// may hold several lines (separated by `\n`); each shrinks to fit the panel's width.
pub fn scatter_panels_styled(
    path: &Path,
    panels: &[Panel],
    styles: &[LabelStyle],
    title: &str,
    legend_title: &str,
) -> Result<()> {
    if panels.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no panels to draw",
            path.display()
        )));
    }
    for p in panels {
        if p.points.ncols() != 2 || p.points.nrows() != p.labels.len() {
            return Err(Error::invalid(format!(
                "{}: panel '{}' has {} x {} points and {} labels (needs n x 2 and n labels)",
                path.display(),
                p.title,
                p.points.nrows(),
                p.points.ncols(),
                p.labels.len()
            )));
        }
        if let Some(&bad) = p.labels.iter().find(|&&l| l >= styles.len()) {
            return Err(Error::invalid(format!(
                "{}: panel '{}' uses label {bad} but only {} label names were given",
                path.display(),
                p.title,
                styles.len()
            )));
        }
        if p.points.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "{}: panel '{}' has non-finite coordinates",
                path.display(),
                p.title
            )));
        }
    }
    let figure = Panels {
        panels,
        styles: styles.to_vec(),
        title,
        legend_title,
    };
    render(path, PANELS_SIZE, &figure)
}

/// Draw the lines of `title` centred at the top of `cell`, each at `size` pixels or smaller so
/// that it fits the width; returns the height used.
fn draw_title<DB: DrawingBackend>(
    cell: &DrawingArea<DB, Shift>,
    title: &str,
    size: u32,
) -> std::result::Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = cell.dim_in_pixel();
    let mut y = 8;
    for (n, line) in title.lines().enumerate() {
        let mut px = if n == 0 { size } else { size * 4 / 5 };
        let style = loop {
            let style: TextStyle = (FONT, px).into_font().into();
            let (tw, _) = cell.estimate_text_size(line, &style)?;
            if tw + 16 <= w || px <= 9 {
                break style;
            }
            px -= 1;
        };
        let (tw, _) = cell.estimate_text_size(line, &style)?;
        cell.draw(&Text::new(
            line.to_string(),
            ((w as i32 - tw as i32) / 2, y as i32),
            style,
        ))?;
        y += px + 6;
    }
    Ok(y)
}

/// Data range of one axis with a 5 % margin (and a unit range for constant data).
fn padded(values: impl Iterator<Item = f32>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(f64::from(v)), hi.max(f64::from(v)))
    });
    if !lo.is_finite() || hi <= lo {
        let c = if lo.is_finite() { lo } else { 0.0 };
        return c - 1.0..c + 1.0;
    }
    let m = 0.05 * (hi - lo);
    lo - m..hi + m
}

impl Figure for Panels<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let top = draw_title(root, self.title, 28)?;
        let titled = root.margin(top + 6, 0, 0, 0);
        let (w, _) = titled.dim_in_pixel();
        let entries: Vec<Entry> = self
            .styles
            .iter()
            .map(|st| Entry {
                name: &st.name,
                colour: st.colour,
                shape: st.shape,
                line: false,
            })
            .collect();
        let legend_w = legend_width(&entries, 18).clamp(LEGEND_W, w / 3);
        let (grid, side) = titled.split_horizontally(w - legend_w);

        let n = self.panels.len();
        let cols = (n as f64).sqrt().ceil() as usize;
        let rows = n.div_ceil(cols);
        let cells = grid.split_evenly((rows, cols));
        // Smaller dots when there are many points, so that clusters stay visible.
        for (panel, cell) in self.panels.iter().zip(cells.iter()) {
            let np = panel.points.nrows();
            let r = if np > 3000 {
                2
            } else if np > 800 {
                3
            } else {
                4
            };
            let xr = padded(panel.points.column(0).iter().copied());
            let yr = padded(panel.points.column(1).iter().copied());
            let top = draw_title(cell, &panel.title, 22)?;
            let inner = cell.margin(top, 0, 0, 0);
            let mut chart = ChartBuilder::on(&inner)
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(xr, yr)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE.mix(0.0))
                .x_labels(5)
                .y_labels(5)
                .x_desc(&panel.x_label)
                .y_desc(&panel.y_label)
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 16))
                .draw()?;
            let plot = chart.plotting_area();
            let (ox, oy) = cell.get_base_pixel();
            for (p, &l) in panel.points.rows().into_iter().zip(&panel.labels) {
                let (px, py) = plot.map_coordinate(&(f64::from(p[0]), f64::from(p[1])));
                let st = &self.styles[l];
                marker(cell, (px - ox, py - oy), r, st.shape, st.colour)?;
            }
        }

        legend(&side, self.legend_title, &entries)
    }
}
