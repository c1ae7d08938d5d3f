//! Praat TextGrid, text format (what the Montreal Forced Aligner writes), and its conversion to
//! phone and word segments.
//!
//! Praat's text format is a stream of values: numbers, "quoted strings" (a quote inside is doubled)
//! and `<flags>`. The long format puts a label before each value (`xmin = 0`, `intervals: size = 3`,
//! `item [1]:`); the short format writes the values alone. Both read the same way here: words, `=`,
//! `:`, `?`, `[...]` indices and `!` comments are skipped, values are kept with their line number.
//! UTF-8 (with or without BOM) and UTF-16 with BOM (Praat's choice for non-ASCII text) are accepted.
//!
//! Conversion ([`alignment`]): the phone tier is the interval tier named `phones` (or `<speaker> -
//! phones`, MFA's multi-speaker naming); `words` likewise, optional. Times in seconds become samples
//! as `round(t * sample_rate)`. Phone labels are normalised: lower case, stress digits removed
//! (`AH0` -> `ah`), so ARPAbet alignments land in the TIMIT set. Empty, `sil`, `sp` and `silence`
//! intervals are silence: `h#` at either end of the tier, `pau` inside it. `spn` (spoken noise, MFA's
//! label for out-of-vocabulary words) is dropped: its frames get no label, like a gap.

use std::path::Path;

use super::{PhoneSet, Segment};
use crate::error::{Error, Result};

/// One interval of an interval tier, times in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Start, seconds.
    pub xmin: f64,
    /// End, seconds.
    pub xmax: f64,
    /// Label, as written (unquoted, doubled quotes undone).
    pub text: String,
    /// Line of the interval's `xmin` in the file.
    pub line: usize,
}

/// A tier of a TextGrid.
#[derive(Debug, Clone, PartialEq)]
pub enum Tier {
    /// Labelled intervals covering the tier's time span.
    Interval {
        /// Tier name (`phones`, `words`, `<speaker> - phones`).
        name: String,
        /// In file order.
        intervals: Vec<Interval>,
    },
    /// Point tiers are read past but not kept.
    Point {
        /// Tier name.
        name: String,
    },
}

impl Tier {
    /// Tier name.
    pub fn name(&self) -> &str {
        match self {
            Tier::Interval { name, .. } | Tier::Point { name } => name,
        }
    }
}

/// A parsed TextGrid (text format, long or short).
#[derive(Debug, Clone, PartialEq)]
pub struct TextGrid {
    /// Start of the whole grid, seconds.
    pub xmin: f64,
    /// End of the whole grid, seconds.
    pub xmax: f64,
    /// Tiers in file order.
    pub tiers: Vec<Tier>,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(f64),
    Str(String),
    Flag(String),
}

/// Read a TextGrid file.
pub fn read(path: &Path) -> Result<TextGrid> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = decode(&bytes).ok_or_else(|| {
        Error::format(
            path,
            "not a text TextGrid (neither UTF-8 nor UTF-16 with BOM)",
        )
    })?;
    parse(&text, path)
}

fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |be: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xFE, 0xFF, ..] => utf16(true),
        [0xFF, 0xFE, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// Split the text into values with their 1-based line numbers.
fn tokenize(text: &str, path: &Path) -> Result<Vec<(Value, usize)>> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let start = line;
                let mut s = String::new();
                loop {
                    match it.next() {
                        Some('"') if it.peek() == Some(&'"') => {
                            it.next();
                            s.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            s.push(ch);
                        }
                        None => return Err(Error::at_line(path, start, "unterminated string")),
                    }
                }
                out.push((Value::Str(s), start));
            }
            '<' => {
                let mut s = String::new();
                for ch in it.by_ref() {
                    if ch == '>' {
                        break;
                    }
                    s.push(ch);
                }
                out.push((Value::Flag(s), line));
            }
            '!' => {
                for ch in it.by_ref() {
                    if ch == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '[' => {
                for ch in it.by_ref() {
                    if ch == ']' {
                        break;
                    }
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let mut s = String::from(c);
                while let Some(&ch) = it.peek() {
                    if ch.is_whitespace() {
                        break;
                    }
                    s.push(ch);
                    it.next();
                }
                let v = s
                    .parse::<f64>()
                    .map_err(|_| Error::at_line(path, line, format!("`{s}` is not a number")))?;
                out.push((Value::Num(v), line));
            }
            c if c.is_alphabetic() => {
                // A label word (`xmin`, `intervals`, `File`): skip to the next space or punctuation.
                while let Some(&ch) = it.peek() {
                    if ch.is_whitespace() || "=:?[\"<!".contains(ch) {
                        break;
                    }
                    it.next();
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

struct Reader<'a> {
    values: Vec<(Value, usize)>,
    pos: usize,
    path: &'a Path,
}

impl Reader<'_> {
    fn line(&self) -> usize {
        self.values
            .get(self.pos)
            .or(self.values.last())
            .map_or(1, |v| v.1)
    }

    fn next(&mut self, what: &str) -> Result<(Value, usize)> {
        let v = self.values.get(self.pos).cloned().ok_or_else(|| {
            Error::at_line(
                self.path,
                self.line(),
                format!("file ends where {what} was expected"),
            )
        })?;
        self.pos += 1;
        Ok(v)
    }

    fn num(&mut self, what: &str) -> Result<f64> {
        match self.next(what)? {
            (Value::Num(v), _) => Ok(v),
            (other, line) => Err(Error::at_line(
                self.path,
                line,
                format!("expected {what} (a number), found {other:?}"),
            )),
        }
    }

    fn string(&mut self, what: &str) -> Result<String> {
        match self.next(what)? {
            (Value::Str(s), _) => Ok(s),
            (other, line) => Err(Error::at_line(
                self.path,
                line,
                format!("expected {what} (a quoted string), found {other:?}"),
            )),
        }
    }

    fn count(&mut self, what: &str) -> Result<usize> {
        let line = self.line();
        let v = self.num(what)?;
        if v < 0.0 || v.fract() != 0.0 {
            return Err(Error::at_line(
                self.path,
                line,
                format!("{what} must be a whole number, got {v}"),
            ));
        }
        Ok(v as usize)
    }
}

/// Parse TextGrid text (long or short text format); `path` is for error messages.
pub fn parse(text: &str, path: &Path) -> Result<TextGrid> {
    let mut r = Reader {
        values: tokenize(text, path)?,
        pos: 0,
        path,
    };
    let file_type = r.string("the file type \"ooTextFile\"")?;
    if !file_type.starts_with("ooTextFile") {
        return Err(Error::at_line(
            path,
            1,
            format!(
                "file type is \"{file_type}\", expected \"ooTextFile\" (save the TextGrid as text)"
            ),
        ));
    }
    let class = r.string("the object class \"TextGrid\"")?;
    if class != "TextGrid" {
        return Err(Error::at_line(
            path,
            2,
            format!("object class is \"{class}\", expected \"TextGrid\""),
        ));
    }
    let xmin = r.num("xmin")?;
    let xmax = r.num("xmax")?;
    let tiers_exist = match r.next("<exists> or <absent>")? {
        (Value::Flag(f), _) => f == "exists",
        (other, line) => {
            return Err(Error::at_line(
                path,
                line,
                format!("expected <exists> or <absent>, found {other:?}"),
            ));
        }
    };
    let mut tiers = Vec::new();
    if tiers_exist {
        let n = r.count("the number of tiers")?;
        for _ in 0..n {
            let line = r.line();
            let class = r.string("a tier class")?;
            let name = r.string("a tier name")?;
            r.num("tier xmin")?;
            r.num("tier xmax")?;
            let size = r.count("the number of intervals or points")?;
            match class.as_str() {
                "IntervalTier" => {
                    // The count comes from the file: reserve no more than its values can fill
                    // (three per interval), so a huge count is an error, not an allocation.
                    let mut intervals = Vec::with_capacity(size.min(r.values.len() / 3));
                    for _ in 0..size {
                        let line = r.line();
                        let a = r.num("interval xmin")?;
                        let b = r.num("interval xmax")?;
                        let text = r.string("interval text")?;
                        intervals.push(Interval {
                            xmin: a,
                            xmax: b,
                            text,
                            line,
                        });
                    }
                    tiers.push(Tier::Interval { name, intervals });
                }
                "TextTier" => {
                    for _ in 0..size {
                        r.num("point time")?;
                        r.string("point mark")?;
                    }
                    tiers.push(Tier::Point { name });
                }
                other => {
                    return Err(Error::at_line(
                        path,
                        line,
                        format!(
                            "unknown tier class \"{other}\" (expected IntervalTier or TextTier)"
                        ),
                    ));
                }
            }
        }
    }
    Ok(TextGrid { xmin, xmax, tiers })
}

/// The interval tier called `name`, or `<speaker> - name`; an error if there are several.
fn tier<'a>(tg: &'a TextGrid, name: &str, path: &Path) -> Result<Option<&'a [Interval]>> {
    let suffix = format!(" - {name}");
    let mut found = tg.tiers.iter().filter_map(|t| match t {
        Tier::Interval { name: n, intervals } => {
            let n = n.to_lowercase();
            (n == name || n.ends_with(&suffix)).then_some(intervals.as_slice())
        }
        Tier::Point { .. } => None,
    });
    let first = found.next();
    if found.next().is_some() {
        return Err(Error::format(
            path,
            format!("several `{name}` tiers: give one speaker per TextGrid"),
        ));
    }
    Ok(first)
}

/// Phone label as written -> TIMIT label, `None` to drop the interval.
pub(crate) fn normalise(raw: &str, at_edge: bool) -> Option<String> {
    let l = raw.trim().to_lowercase();
    let l = l.trim_end_matches(|c: char| c.is_ascii_digit());
    match l {
        "" | "sil" | "sp" | "silence" | "<sil>" => {
            Some(if at_edge { "h#" } else { "pau" }.to_string())
        }
        "spn" => None,
        _ => Some(l.to_string()),
    }
}

/// Phone and word segments (in samples at `sample_rate`) from a TextGrid. Phone labels are checked
/// against `phones` (61 set) after normalisation; the error names the line and the label as written.
pub fn alignment(
    tg: &TextGrid,
    path: &Path,
    sample_rate: u32,
    phones: &PhoneSet,
) -> Result<(Vec<Segment>, Vec<Segment>)> {
    let names: Vec<String> = tg
        .tiers
        .iter()
        .map(|t| format!("\"{}\"", t.name()))
        .collect();
    let phone_tier = tier(tg, "phones", path)?.ok_or_else(|| {
        Error::format(
            path,
            format!(
                "no phone tier: expected an interval tier named \"phones\"; tiers found: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )
    })?;
    let rate = sample_rate as f64;
    let to_samples = |t: f64, line: usize| -> Result<u64> {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(Error::at_line(path, line, format!("time {t} is negative")));
        }
        Ok((t * rate).round() as u64)
    };
    let mut phone_segs = Vec::with_capacity(phone_tier.len());
    let last = phone_tier.len().saturating_sub(1);
    for (i, iv) in phone_tier.iter().enumerate() {
        let Some(label) = normalise(&iv.text, i == 0 || i == last) else {
            continue;
        };
        if phones.p61.id(&label).is_none() {
            return Err(Error::at_line(
                path,
                iv.line,
                format!(
                    "unknown phone \"{}\" (read as `{label}`; expected a TIMIT or ARPAbet phone)",
                    iv.text
                ),
            ));
        }
        phone_segs.push(Segment {
            start: to_samples(iv.xmin, iv.line)?,
            end: to_samples(iv.xmax, iv.line)?,
            label,
            line: iv.line,
        });
    }
    super::timit::check_phones(&phone_segs, path, phones)?;
    let mut words = Vec::new();
    for iv in tier(tg, "words", path)?.unwrap_or(&[]) {
        let w = iv.text.trim();
        if w.is_empty() || matches!(w, "sil" | "sp" | "<sil>") {
            continue;
        }
        let (start, end) = (to_samples(iv.xmin, iv.line)?, to_samples(iv.xmax, iv.line)?);
        if end < start {
            return Err(Error::at_line(
                path,
                iv.line,
                format!("word \"{w}\" ends before it starts"),
            ));
        }
        words.push(Segment {
            start,
            end,
            label: w.to_string(),
            line: iv.line,
        });
    }
    Ok((phone_segs, words))
}

/// A TextGrid in Praat's long text format with one interval tier per `(name, intervals)`:
/// `intervals` in order, times in seconds within `0..xmax`; gaps are filled with empty intervals
/// (Praat's tiers cover the whole grid). [`parse`] reads it back.
pub fn format_textgrid(xmax: f64, tiers: &[(&str, &[Interval])]) -> String {
    use std::fmt::Write as _;
    let quote = |s: &str| s.replace('"', "\"\"");
    let mut out = format!(
        "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = {xmax}\n\
         tiers? <exists>\nsize = {}\nitem []:\n",
        tiers.len()
    );
    for (k, (name, intervals)) in tiers.iter().enumerate() {
        let mut filled: Vec<(f64, f64, &str)> = Vec::with_capacity(intervals.len() + 2);
        let mut t = 0.0;
        for i in intervals.iter() {
            if i.xmin > t {
                filled.push((t, i.xmin, ""));
            }
            let start = i.xmin.max(t);
            if i.xmax > start {
                filled.push((start, i.xmax.min(xmax), &i.text));
                t = i.xmax.min(xmax);
            }
        }
        if t < xmax || filled.is_empty() {
            filled.push((t, xmax, ""));
        }
        let _ = write!(
            out,
            "    item [{}]:\n        class = \"IntervalTier\"\n        name = \"{}\"\n        \
             xmin = 0\n        xmax = {xmax}\n        intervals: size = {}\n",
            k + 1,
            quote(name),
            filled.len()
        );
        for (j, (a, b, text)) in filled.iter().enumerate() {
            let _ = write!(
                out,
                "        intervals [{}]:\n            xmin = {a}\n            xmax = {b}\n            \
                 text = \"{}\"\n",
                j + 1,
                quote(text)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(xmin: f64, xmax: f64, text: &str) -> Interval {
        Interval {
            xmin,
            xmax,
            text: text.into(),
            line: 0,
        }
    }

    #[test]
    fn written_textgrid_reads_back_with_gaps_filled_and_quotes_doubled() {
        let phones = [iv(0.0, 0.1, "h#"), iv(0.1, 0.25, "sh"), iv(0.25, 0.5, "h#")];
        let words = [iv(0.1, 0.25, "she \"x\"")];
        let text = format_textgrid(0.5, &[("phones", &phones), ("words", &words)]);
        let tg = parse(&text, Path::new("t.TextGrid")).unwrap();
        assert_eq!((tg.xmin, tg.xmax), (0.0, 0.5));
        let texts = |k: usize| match &tg.tiers[k] {
            Tier::Interval { intervals, .. } => intervals
                .iter()
                .map(|i| (i.xmin, i.xmax, i.text.clone()))
                .collect::<Vec<_>>(),
            Tier::Point { .. } => panic!("point tier"),
        };
        assert_eq!(tg.tiers[0].name(), "phones");
        assert_eq!(
            texts(0),
            vec![
                (0.0, 0.1, "h#".into()),
                (0.1, 0.25, "sh".into()),
                (0.25, 0.5, "h#".into())
            ]
        );
        assert_eq!(
            texts(1),
            vec![
                (0.0, 0.1, String::new()),
                (0.1, 0.25, "she \"x\"".into()),
                (0.25, 0.5, String::new())
            ]
        );
    }
}
