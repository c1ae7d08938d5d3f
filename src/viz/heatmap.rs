//! Matrices drawn as coloured cells: what the first layer learns from the spectrogram (weight
//! vectors as frequency responses, beside the mel filter bank) and row-normalised confusion
//! matrices with the phone names on the axes.

use std::path::Path;

use ndarray::{Array2, ArrayView2, Axis};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::{FontStyle, FontTransform};
use realfft::RealFftPlanner;

use super::plot::{Drawn, FONT, Figure, render};
use crate::error::{Error, Result};

/// Pixel size of the filter-response figure.
pub const FILTERS_SIZE: (u32, u32) = (1600, 800);
/// Height added below it for a row of kernel waveforms.
const KERNELS_HEIGHT: u32 = 640;
/// Kernels drawn as waveforms per panel, evenly spread over the peak-frequency order.
const KERNEL_TRACES: usize = 8;
/// Pixel size of a confusion matrix.
pub const CONFUSION_SIZE: (u32, u32) = (1200, 1100);
/// At most this many cells per axis are drawn; larger matrices are block-averaged first, which
/// keeps SVGs small and loses nothing visible at these sizes.
const MAX_CELLS: usize = 160;

/// Magnitude frequency responses |DFT| of time-domain filters (one per row, e.g. the first layer
/// of a net on raw waveform), zero-padded to `n_fft` points: rows × (n_fft / 2 + 1) bins.
pub fn magnitude_responses(taps: ArrayView2<f32>, n_fft: usize) -> Result<Array2<f32>> {
    if n_fft < taps.ncols() || n_fft < 2 {
        return Err(Error::invalid(format!(
            "frequency response: n_fft = {n_fft} is shorter than the {} taps",
            taps.ncols()
        )));
    }
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut out = Array2::zeros((taps.nrows(), n_fft / 2 + 1));
    for (row, mut dst) in taps.rows().into_iter().zip(out.rows_mut()) {
        input.iter_mut().for_each(|v| *v = 0.0);
        input.iter_mut().zip(row.iter()).for_each(|(d, &s)| *d = s);
        fft.process(&mut input, &mut spectrum)
            .map_err(|e| Error::invalid(format!("frequency response: {e}")))?;
        dst.iter_mut()
            .zip(&spectrum)
            .for_each(|(d, c)| *d = c.norm());
    }
    Ok(out)
}

/// The bin of a row's largest |value| and that |value|.
fn peak(r: ndarray::ArrayView1<f32>) -> (usize, f32) {
    r.iter().enumerate().fold(
        (0, -1f32),
        |b, (i, &v)| if v.abs() > b.1 { (i, v.abs()) } else { b },
    )
}

/// Row indices ordered by the bin of their peak |value| (ties by row).
fn peak_order(weights: ArrayView2<f32>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..weights.nrows()).collect();
    order.sort_by_key(|&i| (peak(weights.row(i)).0, i));
    order
}

/// Each row scaled to peak |value| 1 (|w| unless `signed`), rows ordered by the bin of their
/// peak.
fn peak_sorted(weights: ArrayView2<f32>, signed: bool) -> Array2<f32> {
    let mut out = Array2::zeros(weights.dim());
    for (dst, src) in peak_order(weights).into_iter().enumerate() {
        let r = weights.row(src);
        let top = peak(r).1;
        let scale = if top > 0.0 { 1.0 / top } else { 0.0 };
        out.row_mut(dst).assign(&r.mapv(|v| {
            let v = v * scale;
            if signed { v } else { v.abs() }
        }));
    }
    out
}

/// Block-average `a` so that neither axis exceeds `MAX_CELLS`.
fn shrink(a: &Array2<f32>) -> Array2<f32> {
    let (r, c) = a.dim();
    let (nr, nc) = (r.min(MAX_CELLS), c.min(MAX_CELLS));
    if (nr, nc) == (r, c) {
        return a.clone();
    }
    Array2::from_shape_fn((nr, nc), |(i, j)| {
        let rows = i * r / nr..((i + 1) * r / nr).max(i * r / nr + 1);
        let cols = j * c / nc..((j + 1) * c / nc).max(j * c / nc + 1);
        let block = a.slice(ndarray::s![rows, cols]);
        block.sum() / block.len() as f32
    })
}

/// One heat-map panel over a frequency axis.
struct Spectral {
    title: String,
    y_desc: String,
    values: Array2<f32>,
    /// Rows before block-averaging, for the axis.
    count: usize,
    top_hz: f64,
    /// Values in -1..1 (diverging colours) rather than 0..1.
    signed: bool,
}

/// Chosen kernels of one panel as waveforms: (peak frequency in Hz, kernel / peak |w|).
struct Traces {
    title: String,
    kernels: Vec<(f64, Vec<f32>)>,
    total: usize,
    ms_per_tap: f64,
}

struct Filters {
    title: String,
    panels: Vec<Spectral>,
    traces: Vec<Traces>,
}

/// Draw first-layer weight vectors as frequency responses: `weights` has one row per hidden unit
/// and one column per frequency bin (evenly spaced from 0 to `sample_rate` / 2). Each row is shown
/// as |w| scaled to its peak, rows sorted by peak frequency, as an image (units × frequency);
/// beside it, drawn the same way, the mel filter bank (filters × the same kind of bins) if given.
pub fn filter_responses(
    path: &Path,
    weights: ArrayView2<f32>,
    sample_rate: f32,
    mel_filterbank: Option<ArrayView2<f32>>,
    title: &str,
) -> Result<()> {
    let mut panels = vec![
        FilterPanel {
            title: format!("|w|: first-layer units ({})", weights.nrows()),
            rows: "unit (sorted by peak frequency)".into(),
            responses: weights,
            signed: false,
        },
        FilterPanel {
            title: "signed w, same order".into(),
            rows: "unit (sorted by peak frequency)".into(),
            responses: weights,
            signed: true,
        },
    ];
    if let Some(mel) = mel_filterbank {
        panels.push(FilterPanel {
            title: format!("mel filter bank ({})", mel.nrows()),
            rows: "mel filter".into(),
            responses: mel,
            signed: false,
        });
    }
    filter_panels(path, &panels, &[], sample_rate, title)
}

/// One panel of [`filter_panels`]: a title, what its rows are, and their responses over
/// frequency (rows × bins evenly spaced from 0 Hz to the Nyquist frequency).
pub struct FilterPanel<'a> {
    /// Panel title.
    pub title: String,
    /// Name of the rows (y axis).
    pub rows: String,
    /// Responses (e.g. filter-bank weights or |DFT| of kernels).
    pub responses: ArrayView2<'a, f32>,
    /// Draw the sign (w / peak |w| in diverging colours) rather than |w| / peak.
    pub signed: bool,
}

/// Signed time-domain kernels (rows × taps), of which a few, evenly spread over the order of
/// their peak frequency, are drawn as waveforms below the responses.
pub struct KernelPanel<'a> {
    /// Panel title.
    pub title: String,
    /// The kernels, one per row.
    pub kernels: ArrayView2<'a, f32>,
    /// Their magnitude responses (rows × bins from 0 Hz to Nyquist), which set the order.
    pub responses: ArrayView2<'a, f32>,
}

/// Draw several sets of filters side by side, each row scaled to its peak and the rows sorted by
/// peak frequency: e.g. learned filters, the same network's random start, and the mel filters;
/// below them, when `kernels` are given, a few signed kernels of each set as waveforms.
pub fn filter_panels(
    path: &Path,
    panels: &[FilterPanel<'_>],
    kernels: &[KernelPanel<'_>],
    sample_rate: f32,
    title: &str,
) -> Result<()> {
    if !sample_rate.is_finite() || sample_rate <= 0.0 {
        return Err(Error::invalid(format!(
            "{}: sample rate {sample_rate} must be positive",
            path.display()
        )));
    }
    let top_hz = f64::from(sample_rate) / 2.0;
    let mut drawn = Vec::new();
    for p in panels {
        super::check_finite(p.responses, &format!("{}: {}", path.display(), p.title))?;
        drawn.push(Spectral {
            title: p.title.clone(),
            y_desc: p.rows.clone(),
            values: shrink(&peak_sorted(p.responses, p.signed)),
            count: p.responses.nrows(),
            top_hz,
            signed: p.signed,
        });
    }
    let mut traces = Vec::new();
    for k in kernels {
        super::check_finite(k.kernels, &format!("{}: {}", path.display(), k.title))?;
        let n = k.kernels.nrows();
        if k.responses.nrows() != n || n == 0 || k.responses.ncols() < 2 {
            return Err(Error::invalid(format!(
                "{}: {}: {} kernels but {} responses",
                path.display(),
                k.title,
                n,
                k.responses.nrows()
            )));
        }
        let order = peak_order(k.responses);
        let shown = KERNEL_TRACES.min(n);
        let bin_hz = top_hz / (k.responses.ncols() - 1) as f64;
        let kernels = (0..shown)
            .map(|i| {
                let row = order[if shown > 1 {
                    i * (n - 1) / (shown - 1)
                } else {
                    0
                }];
                let r = k.kernels.row(row);
                let top = peak(r).1;
                let scale = if top > 0.0 { 1.0 / top } else { 0.0 };
                (
                    peak(k.responses.row(row)).0 as f64 * bin_hz,
                    r.iter().map(|&v| v * scale).collect(),
                )
            })
            .collect();
        traces.push(Traces {
            title: k.title.clone(),
            kernels,
            total: n,
            ms_per_tap: 1000.0 / f64::from(sample_rate),
        });
    }
    let size = if traces.is_empty() {
        FILTERS_SIZE
    } else {
        (FILTERS_SIZE.0, FILTERS_SIZE.1 + KERNELS_HEIGHT)
    };
    render(
        path,
        size,
        &Filters {
            title: title.into(),
            panels: drawn,
            traces,
        },
    )
}

/// Blue (-1) through white (0) to red (1).
fn diverging(v: f32) -> RGBColor {
    let v = v.clamp(-1.0, 1.0);
    let (lo, hi) = if v < 0.0 {
        ((255.0, 255.0, 255.0), (33.0, 102.0, 172.0))
    } else {
        ((255.0, 255.0, 255.0), (178.0, 24.0, 43.0))
    };
    let a = v.abs();
    let mix = |l: f32, h: f32| (l + (h - l) * a).round() as u8;
    RGBColor(mix(lo.0, hi.0), mix(lo.1, hi.1), mix(lo.2, hi.2))
}

impl Figure for Filters {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let titled = root
            .margin(10, 0, 0, 0)
            .titled(&self.title, (FONT, 30).into_font().style(FontStyle::Bold))?;
        let (w, h) = titled.dim_in_pixel();
        let (top, bottom) = if self.traces.is_empty() {
            (titled, None)
        } else {
            let (a, b) = titled.split_vertically(h - KERNELS_HEIGHT);
            (a, Some(b))
        };
        let (maps, bar) = top.split_horizontally(w - 110);
        let cells = maps.split_evenly((1, self.panels.len()));
        for (p, cell) in self.panels.iter().zip(cells.iter()) {
            let (rows, cols) = p.values.dim();
            let khz = p.top_hz / 1000.0;
            let mut chart = ChartBuilder::on(cell)
                .caption(&p.title, (FONT, 22))
                .margin(12)
                .x_label_area_size(56)
                .y_label_area_size(76)
                .build_cartesian_2d(0.0..khz, 0.0..p.count as f64)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("frequency (kHz)")
                .y_desc(&p.y_desc)
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 16))
                .axis_desc_style((FONT, 18))
                .draw()?;
            let dx = khz / cols as f64;
            let dy = p.count as f64 / rows as f64;
            chart.draw_series(p.values.indexed_iter().map(|((i, j), &v)| {
                let colour = if p.signed {
                    diverging(v)
                } else {
                    ViridisRGB::get_color(v.clamp(0.0, 1.0))
                };
                Rectangle::new(
                    [
                        (j as f64 * dx, i as f64 * dy),
                        ((j + 1) as f64 * dx, (i + 1) as f64 * dy),
                    ],
                    colour.filled(),
                )
            }))?;
        }
        if self.panels.iter().any(|p| p.signed) {
            let (_, bh) = bar.dim_in_pixel();
            let (upper, lower) = bar.split_vertically(bh / 2);
            colour_bar(&upper.margin(70, 10, 10, 20), "|w| / peak", 0.0, |v| {
                ViridisRGB::get_color(v)
            })?;
            colour_bar(&lower.margin(30, 50, 10, 20), "w / peak |w|", -1.0, |v| {
                diverging(2.0 * v - 1.0)
            })?;
        } else {
            colour_bar(&bar.margin(70, 80, 10, 20), "|w| / peak", 0.0, |v| {
                ViridisRGB::get_color(v)
            })?;
        }
        if let Some(bottom) = bottom {
            let (bw, _) = bottom.dim_in_pixel();
            let (row, _) = bottom.split_horizontally(bw - 110);
            let cells = row.split_evenly((1, self.traces.len()));
            for (t, cell) in self.traces.iter().zip(cells.iter()) {
                draw_traces(t, cell)?;
            }
        }
        Ok(())
    }
}

/// A few signed kernels as waveforms, stacked from the lowest peak frequency (bottom) up, each
/// scaled to its largest |w|, with its peak frequency written beside it.
fn draw_traces<DB: DrawingBackend>(t: &Traces, area: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let taps = t.kernels.first().map_or(1, |k| k.1.len());
    let ms = taps as f64 * t.ms_per_tap;
    let m = t.kernels.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(&t.title, (FONT, 22))
        .margin(12)
        .x_label_area_size(56)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..ms, 0.0..m)?;
    let peaks: Vec<f64> = t.kernels.iter().map(|k| k.0).collect();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (ms)")
        .y_desc(format!(
            "{} of {} kernels, signed, by peak frequency",
            t.kernels.len(),
            t.total
        ))
        .y_labels(t.kernels.len() * 2 + 1)
        .y_label_formatter(&|v| {
            // A label at each trace's zero line: its peak frequency.
            let i = v - 0.5;
            if (i - i.round()).abs() < 1e-6 && i >= 0.0 && (i.round() as usize) < peaks.len() {
                format!("{:.2} kHz", peaks[i.round() as usize] / 1000.0)
            } else {
                String::new()
            }
        })
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()?;
    for (slot, (_, k)) in t.kernels.iter().enumerate() {
        let base = slot as f64 + 0.5;
        chart.draw_series(LineSeries::new(
            [(0.0, base), (ms, base)],
            RGBColor(200, 200, 200).stroke_width(1),
        ))?;
        chart.draw_series(LineSeries::new(
            k.iter()
                .enumerate()
                .map(|(j, &v)| (j as f64 * t.ms_per_tap, base + 0.45 * f64::from(v))),
            BLACK.stroke_width(1),
        ))?;
    }
    Ok(())
}

/// A vertical colour bar: `colour` takes 0..1 (bottom to top); the ticks read from `low` to 1.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    low: f32,
    colour: impl Fn(f32) -> RGBColor,
) -> Drawn<DB> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32 - 30);
    area.draw(&Text::new(caption, (0, 0), (FONT, 16)))?;
    let (x0, x1, top) = (0, 24.min(w), 30);
    for y in 0..h {
        let v = 1.0 - y as f32 / (h - 1).max(1) as f32;
        area.draw(&Rectangle::new(
            [(x0, top + y), (x1, top + y + 1)],
            colour(v).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, top + h)],
        BLACK.stroke_width(1),
    ))?;
    for k in 0..=4 {
        let y = top + (h - 1) * (4 - k) / 4;
        area.draw(&PathElement::new(vec![(x1, y), (x1 + 5, y)], BLACK))?;
        area.draw(&Text::new(
            format!("{:.2}", low + (1.0 - low) * k as f32 / 4.0),
            (x1 + 8, y - 8),
            (FONT, 15),
        ))?;
    }
    Ok(())
}

struct Confusion {
    title: String,
    rates: Array2<f32>,
    labels: Vec<String>,
}

/// White (0) to dark blue (1).
fn blues(v: f32) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let mix = |lo: f32, hi: f32| (lo + (hi - lo) * v).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// Draw a confusion matrix (rows = reference, columns = hypothesis, entries = counts) as a heat
/// map of each row divided by its total, with the class names on both axes.
pub fn confusion_matrix(
    path: &Path,
    matrix: ArrayView2<f64>,
    labels: &[String],
    title: &str,
) -> Result<()> {
    let n = labels.len();
    if matrix.dim() != (n, n) || n == 0 {
        return Err(Error::invalid(format!(
            "{}: confusion matrix is {} x {} but there are {n} class names",
            path.display(),
            matrix.nrows(),
            matrix.ncols()
        )));
    }
    if matrix.iter().any(|&v| !v.is_finite() || v < 0.0) {
        return Err(Error::invalid(format!(
            "{}: confusion counts must be finite and non-negative",
            path.display()
        )));
    }
    let totals = matrix.sum_axis(Axis(1));
    let rates = Array2::from_shape_fn((n, n), |(i, j)| {
        if totals[i] > 0.0 {
            (matrix[[i, j]] / totals[i]) as f32
        } else {
            0.0
        }
    });
    render(
        path,
        CONFUSION_SIZE,
        &Confusion {
            title: title.into(),
            rates,
            labels: labels.to_vec(),
        },
    )
}

impl Figure for Confusion {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let titled = root
            .margin(10, 0, 0, 0)
            .titled(&self.title, (FONT, 30).into_font().style(FontStyle::Bold))?;
        let (w, _) = titled.dim_in_pixel();
        let (main, bar) = titled.split_horizontally(w - 120);
        let n = self.labels.len();
        let longest = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1);
        // Tick text shrinks with the number of classes so that neighbours do not overlap.
        let tick_px = (640 / n as i32).clamp(8, 18);
        let label_room = 40 + tick_px * longest as i32 * 2 / 3;
        let nf = n as f64;
        let mut chart = ChartBuilder::on(&main)
            .margin(12)
            .x_label_area_size(label_room)
            .y_label_area_size(label_room)
            .build_cartesian_2d(0.0..nf, 0.0..nf)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc("hypothesis")
            .y_desc("reference")
            .axis_desc_style((FONT, 20))
            .draw()?;
        // Row 0 of the matrix at the top, so the diagonal runs from top left to bottom right.
        chart.draw_series(self.rates.indexed_iter().map(|((i, j), &v)| {
            let y = nf - i as f64;
            Rectangle::new(
                [(j as f64, y - 1.0), (j as f64 + 1.0, y)],
                blues(v).filled(),
            )
        }))?;
        let plot = chart.plotting_area();
        let (ox, oy) = main.get_base_pixel();
        let font: TextStyle = (FONT, tick_px).into_font().into();
        let bottom = plot.map_coordinate(&(0.0, 0.0)).1 - oy;
        let left = plot.map_coordinate(&(0.0, 0.0)).0 - ox;
        for (k, name) in self.labels.iter().enumerate() {
            let centre = k as f64 + 0.5;
            let x = plot.map_coordinate(&(centre, 0.0)).0 - ox;
            let y = plot.map_coordinate(&(0.0, nf - centre)).1 - oy;
            let (tw, _) = main.estimate_text_size(name, &font)?;
            main.draw(&Text::new(
                name.clone(),
                (left - 6 - tw as i32, y - tick_px / 2),
                font.clone(),
            ))?;
            main.draw(&Text::new(
                name.clone(),
                (x - tick_px / 2, bottom + 6 + tw as i32),
                font.clone().transform(FontTransform::Rotate270),
            ))?;
        }
        colour_bar(&bar.margin(70, 80, 10, 20), "row rate", 0.0, blues)
    }
}
