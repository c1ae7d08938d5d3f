//! What every figure shares: the embedded font, PNG-or-SVG by extension, atomic output, the
//! categorical palette and marker shapes, and a legend drawn in pixel space.
//!
//! A figure is a type implementing `Figure`; `render` picks the backend from the file
//! extension, draws into a temporary file (PNG) or string (SVG) and renames it into place, so a
//! failed or interrupted plot never leaves a half-written file.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

/// The font family every figure uses; DejaVu Sans is registered under this name.
pub(crate) const FONT: &str = "sans-serif";

/// Drawing outcome for a backend.
pub(crate) type Drawn<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can be drawn onto any plotters backend.
pub(crate) trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB>;
}

/// Register the embedded DejaVu Sans once per process (plotters has no system fonts here).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped inside the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Output format, from the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// PNG bitmap.
    Png,
    /// SVG vector graphics.
    Svg,
}

impl Format {
    /// `.png` or `.svg` (any case); anything else is an error naming the file.
    pub fn from_path(path: &Path) -> Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::invalid(format!(
                "{}: plots are written as .png or .svg",
                path.display()
            ))),
        }
    }
}

fn draw_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(format!("drawing failed: {e}")))
}

/// Draw `figure` at `size` pixels into `path` (PNG or SVG by extension), atomically.
pub(crate) fn render<F: Figure>(path: &Path, size: (u32, u32), figure: &F) -> Result<()> {
    register_fonts();
    match Format::from_path(path)? {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
                figure.draw(&root).map_err(|e| draw_error(path, e))?;
                root.present().map_err(|e| draw_error(path, e))?;
            }
            crate::io::atomic::write_bytes(path, svg.as_bytes())?;
        }
        Format::Png => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            // The bitmap backend encodes by the extension of the name it writes to.
            let tmp = tempfile::Builder::new()
                .prefix(&crate::io::atomic::temp_prefix())
                .suffix(".png")
                .tempfile_in(dir)
                .map_err(|e| Error::io(dir, e))?;
            {
                let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
                figure.draw(&root).map_err(|e| draw_error(path, e))?;
                root.present().map_err(|e| draw_error(path, e))?;
            }
            tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
        }
    }
    readable(path)
}

/// Temporary files are created private (0600); a figure is meant to be shared.
fn readable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Twenty well-separated colours (Tableau 20, dark shades first); label i gets colour i mod 20.
const PALETTE: [(u8, u8, u8); 20] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (199, 199, 199),
    (219, 219, 141),
    (158, 218, 229),
];

/// Colour of label `i`.
pub(crate) fn colour(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// Okabe & Ito's (2008) qualitative palette, told apart also with the common colour-vision
/// deficiencies; its yellow (hard to see on white) is left out and black comes last.
/// The order pairs the most alike colours (orange/vermillion, sky blue/blue) on neighbouring
/// indices, so that two groups given the even and the odd indices never share a near-duplicate.
const OKABE_ITO: [(u8, u8, u8); 7] = [
    (230, 159, 0),   // orange
    (213, 94, 0),    // vermillion
    (86, 180, 233),  // sky blue
    (0, 114, 178),   // blue
    (0, 158, 115),   // bluish green
    (204, 121, 167), // reddish purple
    (0, 0, 0),       // black
];

/// Colour `i` of the Okabe-Ito palette (7 colours, then they repeat): for a handful of labels
/// that must be told apart at a glance.
pub fn okabe_ito(i: usize) -> RGBColor {
    let (r, g, b) = OKABE_ITO[i % OKABE_ITO.len()];
    RGBColor(r, g, b)
}

/// How one label is drawn in a scatter plot and its legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelStyle {
    /// Legend text.
    pub name: String,
    /// Fill colour.
    pub colour: RGBColor,
    /// Marker shape.
    pub shape: Shape,
}

/// Marker shapes; after the twenty colours are used up the shape changes, so 80 labels stay
/// distinguishable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Filled circle.
    Circle,
    /// Filled triangle, point up.
    Triangle,
    /// Filled square.
    Square,
    /// Filled diamond.
    Diamond,
}

/// Shape of label (or series) `i`.
pub(crate) fn shape(i: usize) -> Shape {
    [
        Shape::Circle,
        Shape::Triangle,
        Shape::Square,
        Shape::Diamond,
    ][(i / PALETTE.len()) % 4]
}

/// Shape of series `i` in a line plot, where colour and shape change together.
pub(crate) fn series_shape(i: usize) -> Shape {
    [
        Shape::Circle,
        Shape::Triangle,
        Shape::Square,
        Shape::Diamond,
    ][i % 4]
}

/// Draw a filled marker of radius `r` pixels centred at pixel `at` of `area`.
pub(crate) fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    r: i32,
    shape: Shape,
    colour: RGBColor,
) -> Drawn<DB> {
    let style = colour.filled();
    let (x, y) = at;
    match shape {
        Shape::Circle => area.draw(&Circle::new(at, r, style)),
        Shape::Square => area.draw(&Rectangle::new([(x - r, y - r), (x + r, y + r)], style)),
        Shape::Triangle => area.draw(&Polygon::new(
            vec![(x, y - r - 1), (x - r - 1, y + r), (x + r + 1, y + r)],
            style,
        )),
        Shape::Diamond => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ],
            style,
        )),
    }
}

/// A legend entry: name, colour and marker (and whether to draw a line through the marker).
pub(crate) struct Entry<'a> {
    pub name: &'a str,
    pub colour: RGBColor,
    pub shape: Shape,
    pub line: bool,
}

/// Draw a legend of `entries` inside `area` (in its own pixel space), top to bottom and then in
/// further columns when it does not fit; the text shrinks until the widest name fits its column.
pub(crate) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    entries: &[Entry],
) -> Drawn<DB> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    area.draw(&Text::new(
        title,
        (8, 4),
        (FONT, 20).into_font().style(FontStyle::Bold),
    ))?;
    let top = 34;
    let mut font_px = 18;
    let (mut row_h, mut rows, mut col_w);
    loop {
        row_h = font_px + 8;
        rows = ((h - top) / row_h).max(1);
        let cols = (entries.len() as i32 + rows - 1) / rows;
        col_w = (w - 8) / cols.max(1);
        // The widest name must fit its column (marker and gap take 30 pixels).
        let style: TextStyle = (FONT, font_px).into_font().into();
        let mut widest = 0;
        for e in entries {
            widest = widest.max(area.estimate_text_size(e.name, &style)?.0 as i32);
        }
        if col_w >= widest + 36 || font_px <= 9 {
            break;
        }
        font_px -= 1;
    }
    let font = (FONT, font_px).into_font();
    for (i, e) in entries.iter().enumerate() {
        let (col, row) = (i as i32 / rows, i as i32 % rows);
        let x = 8 + col * col_w;
        let y = top + row * row_h + row_h / 2;
        if e.line {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 24, y)],
                e.colour.stroke_width(2),
            ))?;
        }
        marker(area, (x + 12, y), font_px / 4 + 2, e.shape, e.colour)?;
        area.draw(&Text::new(
            e.name.to_string(),
            (x + 30, y - font_px / 2),
            font.clone(),
        ))?;
    }
    Ok(())
}

/// Pixel width a [`legend`] needs to show `entries` in one column at `font_px`: the widest name,
/// the marker and margins.
pub(crate) fn legend_width(entries: &[Entry], font_px: u32) -> u32 {
    register_fonts();
    let font = (FONT, font_px).into_font();
    let widest = entries
        .iter()
        .filter_map(|e| font.box_size(e.name).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    widest + 52
}
