//! A spectrogram with two rows of phone boundaries under it: the hand-labelled ones and an
//! automatic alignment's, so that where they disagree shows at a glance.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::colors::colormaps::ViridisRGB;

use super::plot::{Drawn, FONT, Figure, render};
use crate::error::{Error, Result};

/// Pixel size of the figure.
pub const BOUNDARIES_SIZE: (u32, u32) = (1800, 800);

/// One labelled interval on the time axis, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Phone name drawn in the interval.
    pub label: String,
}

struct Boundaries {
    title: String,
    /// frames x bins, scaled to 0..1.
    image: Array2<f32>,
    shift_s: f64,
    tiers: Vec<(String, Vec<Labelled>)>,
}

/// Draw `spectrogram` (frames x bins, e.g. log mel energies; frame `t` centred at
/// `(t + 0.5) * shift_s` seconds) with one row of labelled intervals per entry of `tiers`
/// (e.g. `("hand", ..)`, `("automatic", ..)`), boundaries drawn as lines through the spectrogram.
pub fn spectrogram_with_boundaries(
    path: &Path,
    spectrogram: ArrayView2<f32>,
    shift_s: f64,
    tiers: &[(&str, &[Labelled])],
    title: &str,
) -> Result<()> {
    if spectrogram.is_empty() || shift_s.is_nan() || shift_s <= 0.0 {
        return Err(Error::invalid(format!(
            "{}: an empty spectrogram or a frame shift of {shift_s} s",
            path.display()
        )));
    }
    let (lo, hi) = spectrogram
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(Error::invalid(format!(
            "{}: the spectrogram has no finite value",
            path.display()
        )));
    }
    let range = (hi - lo).max(1e-6);
    let image = spectrogram.mapv(|v| if v.is_finite() { (v - lo) / range } else { 0.0 });
    render(
        path,
        BOUNDARIES_SIZE,
        &Boundaries {
            title: title.into(),
            image,
            shift_s,
            tiers: tiers
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_vec()))
                .collect(),
        },
    )
}

impl Figure for Boundaries {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let titled = root
            .margin(10, 10, 10, 10)
            .titled(&self.title, (FONT, 28).into_font().style(FontStyle::Bold))?;
        let (_, h) = titled.dim_in_pixel();
        let tier_px = 60;
        let rows = self.tiers.len() as u32;
        let (top, bottom) = titled.split_vertically(h.saturating_sub(tier_px * rows + 20));
        let (frames, bins) = self.image.dim();
        let duration = frames as f64 * self.shift_s;
        let mut chart = ChartBuilder::on(&top)
            .margin_right(20)
            .x_label_area_size(50)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..duration, 0.0..bins as f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (s)")
            .y_desc("bin")
            .axis_desc_style((FONT, 20))
            .label_style((FONT, 16))
            .draw()?;
        chart.draw_series(self.image.indexed_iter().map(|((t, b), &v)| {
            let x = t as f64 * self.shift_s;
            let c = ViridisRGB::get_color(v);
            Rectangle::new(
                [(x, b as f64), (x + self.shift_s, b as f64 + 1.0)],
                c.filled(),
            )
        }))?;
        let colours = [RGBColor(255, 255, 255), RGBColor(255, 60, 60)];
        for (k, (_, tier)) in self.tiers.iter().enumerate() {
            let colour = colours[k % colours.len()];
            // Hand boundaries through the upper half, automatic ones through the lower half.
            let (y0, y1) = if k % 2 == 0 {
                (bins as f64 / 2.0, bins as f64)
            } else {
                (0.0, bins as f64 / 2.0)
            };
            chart.draw_series(tier.iter().skip(1).map(|l| {
                PathElement::new(vec![(l.start, y0), (l.start, y1)], colour.stroke_width(2))
            }))?;
        }
        // Label rows under the spectrogram, aligned with its time axis.
        let plot = chart.plotting_area();
        let (ox, _) = top.get_base_pixel();
        let px = |t: f64| plot.map_coordinate(&(t, 0.0)).0 - ox;
        let font: TextStyle = (FONT, 16).into_font().into();
        let name_font: TextStyle = (FONT, 18).into_font().style(FontStyle::Bold).into();
        for (k, (name, tier)) in self.tiers.iter().enumerate() {
            let y = 10 + k as i32 * tier_px as i32;
            bottom.draw_text(name, &name_font, (5, y + 18))?;
            let colour = if k % 2 == 0 { BLACK } else { RED };
            for l in tier {
                let (a, b) = (px(l.start), px(l.end));
                bottom.draw(&Rectangle::new(
                    [(a, y), (b, y + tier_px as i32 - 12)],
                    colour.stroke_width(1),
                ))?;
                let (tw, _) = bottom.estimate_text_size(&l.label, &font)?;
                if (b - a) as u32 > tw + 2 {
                    bottom.draw_text(
                        &l.label,
                        &font,
                        ((a + b) / 2 - tw as i32 / 2, y + tier_px as i32 / 2 - 14),
                    )?;
                }
            }
        }
        Ok(())
    }
}
