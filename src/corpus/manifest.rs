//! A generic corpus: a CSV or TSV manifest, one utterance per row.
//!
//! The first non-comment line is the header. Columns (any order, names in any case):
//!
//! | column | required | meaning |
//! | --- | --- | --- |
//! | `audio` | yes | audio file (WAV, SPHERE, FLAC) |
//! | `channel` | no | channel of a multi-channel audio file: a number from 0, `mean` (average of all channels) or `mono` (the file must be mono); default: the pipeline's `waveform: { channel }` |
//! | `speaker` | no | speaker id (default: the utterance is its own speaker, so per-speaker CMVN is per utterance and speaker plots have one utterance per speaker) |
//! | `alignment` | no | a `.TextGrid` (Praat text format, e.g. from the Montreal Forced Aligner) or a `.phn`-style file (`start end label` in samples) |
//! | `transcript` | no | what was said, without times: phone names (TIMIT's 61 or the 48 training phones, ARPAbet stress digits allowed) or, for commands given a `--lexicon`, words |
//! | `sentence` | no | id of the prompt, shared by speakers who read the same text (default: the audio file's stem) |
//! | `gender` | no | `f`/`female`/`m`/`male` (default: unknown) |
//! | `dialect` | no | any grouping label |
//! | `sample_rate` | no | the audio's rate in Hz (alias `rate`): converts TextGrid seconds to samples; default 16000 |
//! | `num_samples` | no | audio length in samples, if known |
//! | `text` | no | transcript |
//! | `id` | no | utterance id (default: `<speaker>/<audio stem>`, or the audio stem without a `speaker` column) |
//!
//! Only `audio` is required; any field but `audio` may be empty. Rows without an alignment have no
//! times: features, activations and the hidden-layer plots need none; commands that need them
//! (training on hand labels, frame accuracy, boundary scores) name such utterances and refuse
//! them (or skip them when asked); flat-start training and alignment use the transcript.
//!
//! TSV when the header has a tab, CSV otherwise (fields may be "quoted", with "" for a quote).
//! Relative paths are relative to the manifest's folder. Lines starting with `#` and blank lines are
//! skipped. A `.phn`-style alignment takes its words from a `.wrd` file next to it, if there is one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{Corpus, CorpusKind, Gender, PhoneSet, Utterance, textgrid, timit};
use crate::audio::Channel;
use crate::error::{Error, Result};

const COLUMNS: [&str; 12] = [
    "audio",
    "channel",
    "speaker",
    "alignment",
    "transcript",
    "sentence",
    "gender",
    "dialect",
    "sample_rate",
    "num_samples",
    "text",
    "id",
];

/// Split one line into fields.
fn split_line(line: &str, tab: bool, path: &Path, lineno: usize) -> Result<Vec<String>> {
    if tab {
        return Ok(line.split('\t').map(|f| f.trim().to_string()).collect());
    }
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if cur.trim().is_empty() && !was_quoted => {
                cur.clear();
                quoted = true;
                was_quoted = true;
            }
            ',' if !quoted => {
                fields.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(Error::at_line(path, lineno, "a quoted field is not closed"));
    }
    fields.push(cur);
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

/// Read a manifest into a corpus. Every alignment is read and checked; audio files must exist.
pub fn read(path: &Path) -> Result<Corpus> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::format(path, "a manifest must be UTF-8 text (CSV or TSV)"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let base = path.parent().unwrap_or(Path::new("."));
    let phones = PhoneSet::timit();

    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (hline, header) = lines
        .next()
        .ok_or_else(|| Error::format(path, "empty manifest: expected a header row"))?;
    let tab = header.contains('\t');
    let (names, col) = read_header(header, tab, path, hline)?;

    let mut utts = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, raw) in lines {
        let fields = split_line(raw, tab, path, line)?;
        if fields.len() != names.len() {
            return Err(Error::at_line(
                path,
                line,
                format!("{} fields, the header has {}", fields.len(), names.len()),
            ));
        }
        let row = Row {
            fields: &fields,
            col: &col,
            path,
            line,
        };
        utts.push(row.utterance(base, phones, &mut seen)?);
    }
    Corpus::from_utterances(path, CorpusKind::Manifest, utts)
}

/// The header's column names (`rate` read as `sample_rate`) and each known column's index; an
/// unknown or repeated column, or no `audio`, is an error.
fn read_header(
    header: &str,
    tab: bool,
    path: &Path,
    hline: usize,
) -> Result<(Vec<String>, HashMap<&'static str, usize>)> {
    let names: Vec<String> = split_line(header, tab, path, hline)?
        .into_iter()
        .map(|n| match n.to_lowercase().as_str() {
            "rate" => "sample_rate".to_string(),
            n => n.to_string(),
        })
        .collect();
    let mut col: HashMap<&str, usize> = HashMap::new();
    for (i, n) in names.iter().enumerate() {
        let Some(known) = COLUMNS.iter().find(|c| **c == n) else {
            return Err(Error::at_line(
                path,
                hline,
                format!("unknown column `{n}`; columns are: {}", COLUMNS.join(", ")),
            ));
        };
        if col.insert(known, i).is_some() {
            return Err(Error::at_line(
                path,
                hline,
                format!("column `{n}` appears twice"),
            ));
        }
    }
    if !col.contains_key("audio") {
        return Err(Error::at_line(
            path,
            hline,
            format!(
                "missing column `audio` (a manifest needs at least audio; {} separated)",
                if tab { "tab" } else { "comma" }
            ),
        ));
    }

    Ok((names, col))
}

/// One row of the manifest: its fields and where it stands.
struct Row<'a> {
    fields: &'a [String],
    col: &'a HashMap<&'static str, usize>,
    path: &'a Path,
    line: usize,
}

impl Row<'_> {
    /// The row's utterance (paths relative to `base`), its alignment read and checked; `seen`
    /// holds the ids of the rows before it, with their lines, and gets this one's.
    fn utterance(
        &self,
        base: &Path,
        phones: &PhoneSet,
        seen: &mut HashMap<String, usize>,
    ) -> Result<Utterance> {
        let (path, line) = (self.path, self.line);
        let get = |c: &str| self.get(c);
        let need =
            |c: &str| get(c).ok_or_else(|| Error::at_line(path, line, format!("empty `{c}`")));
        let audio = base.join(need("audio")?);
        if !audio.is_file() {
            return Err(Error::at_line(
                path,
                line,
                format!("audio file {} not found", audio.display()),
            ));
        }
        let channel = get("channel")
            .map(|c| {
                c.parse::<Channel>()
                    .map_err(|e| Error::at_line(path, line, e))
            })
            .transpose()?;
        let alignment = get("alignment").map(|a| base.join(a));
        let transcript = get("transcript").map(|t| super::TranscriptText {
            text: t.to_string(),
            file: path.to_path_buf(),
            line,
        });
        let sample_rate = self.sample_rate()?;
        let num_samples = self.num_samples()?;
        let gender = self.gender()?;
        let stem = audio
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (phone_segs, words) = match &alignment {
            Some(a) => read_alignment(a, sample_rate, phones)?,
            None => (Vec::new(), Vec::new()),
        };
        let id = match (get("id"), get("speaker")) {
            (Some(id), _) => id.to_string(),
            (None, Some(speaker)) => format!("{speaker}/{stem}"),
            (None, None) => stem.clone(),
        };
        // Without a speaker, the utterance is its own.
        let speaker = get("speaker").unwrap_or(&id).to_string();
        if let Some(prev) = seen.insert(id.clone(), line) {
            return Err(Error::at_line(
                path,
                line,
                format!("utterance id `{id}` was already used on line {prev}"),
            ));
        }
        Ok(Utterance {
            id,
            speaker,
            gender,
            dialect: get("dialect").unwrap_or("").to_string(),
            sentence: get("sentence").unwrap_or(&stem).to_string(),
            audio,
            channel,
            phone_file: alignment.unwrap_or_else(|| path.to_path_buf()),
            phones: phone_segs,
            words,
            text: get("text").map(str::to_string),
            transcript,
            sample_rate,
            num_samples,
            subset: None,
            span: None,
            speed: None,
        })
    }

    /// The field of column `c`, if the manifest has the column and the field is not empty.
    fn get(&self, c: &str) -> Option<&str> {
        self.col
            .get(c)
            .map(|&i| self.fields[i].as_str())
            .filter(|s| !s.is_empty())
    }

    /// The `sample_rate` column (default: 16 kHz).
    fn sample_rate(&self) -> Result<u32> {
        let (path, line) = (self.path, self.line);
        Ok(match self.get("sample_rate") {
            None => crate::audio::DEFAULT_RATE,
            Some(s) => s.parse::<u32>().ok().filter(|&r| r > 0).ok_or_else(|| {
                Error::at_line(
                    path,
                    line,
                    format!("sample_rate `{s}` is not a positive integer"),
                )
            })?,
        })
    }

    /// The `num_samples` column.
    fn num_samples(&self) -> Result<Option<u64>> {
        let (path, line) = (self.path, self.line);
        self.get("num_samples")
            .map(|s| {
                s.parse::<u64>().map_err(|_| {
                    Error::at_line(path, line, format!("num_samples `{s}` is not an integer"))
                })
            })
            .transpose()
    }

    /// The `gender` column.
    fn gender(&self) -> Result<Gender> {
        let (path, line) = (self.path, self.line);
        Ok(match self.get("gender").map(str::to_lowercase).as_deref() {
            None => Gender::Unknown,
            Some("f" | "female") => Gender::Female,
            Some("m" | "male") => Gender::Male,
            Some(g) => {
                return Err(Error::at_line(
                    path,
                    line,
                    format!("gender `{g}`: expected f, female, m or male (or leave it empty)"),
                ));
            }
        })
    }
}

/// Phones and words from a TextGrid (by extension, any case) or a `.phn`-style file (+ `.wrd`).
fn read_alignment(
    path: &Path,
    sample_rate: u32,
    phones: &PhoneSet,
) -> Result<(Vec<super::Segment>, Vec<super::Segment>)> {
    let is_textgrid = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("textgrid"));
    if is_textgrid {
        let tg = textgrid::read(path)?;
        return textgrid::alignment(&tg, path, sample_rate, phones);
    }
    let segs = timit::read_phn(path, phones)?;
    let wrd: Option<PathBuf> = ["wrd", "WRD"]
        .iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.is_file());
    let words = match wrd {
        Some(w) => timit::read_segment_file(&w)?,
        None => Vec::new(),
    };
    Ok((segs, words))
}
