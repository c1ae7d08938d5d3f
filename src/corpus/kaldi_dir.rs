//! A Kaldi data directory as a corpus: `wav.scp`, `utt2spk` and, where present, `segments`,
//! `text`, `spk2utt`, `spk2gender` and alignments (`phones.ctm`, or `textgrids/<utt>.TextGrid`).
//!
//! | file | required | each line |
//! | --- | --- | --- |
//! | `wav.scp` | yes | `<recording> <path>`, or `<recording> <command> \|` (see below) |
//! | `utt2spk` | yes | `<utterance> <speaker>`: one line per utterance |
//! | `segments` | no | `<utterance> <recording> <start> <end> [<channel>]`, seconds; `end` -1: to the end |
//! | `text` | no | `<utterance> <words...>`: the transcript (flat-start training with `--lexicon`) |
//! | `spk2utt` | no | `<speaker> <utterances...>`: checked against `utt2spk` |
//! | `spk2gender` | no | `<speaker> m\|f` |
//! | `phones.ctm` | no | `<utterance> <channel> <start> <duration> <phone> [<confidence>]`, seconds from the utterance start |
//!
//! Without `segments` every recording is one utterance (its id is the recording id). With it,
//! utterances are cut from recordings as Kaldi's `extract-segments` cuts them: the first sample is
//! `start x rate` and the end `end x rate`, both truncated to whole samples; an end past the
//! recording by less than half a second (Kaldi's `--max-overshoot`) is moved to the recording's end,
//! one further out is an error.
//!
//! Paths in `wav.scp` are used as written, as Kaldi uses them: a relative path is relative to the
//! current directory (Kaldi recipes write them relative to the recipe directory they run in), not
//! to the data directory. An entry ending in `|` is a shell command whose standard output is the
//! audio; commands run (with `sh -c`) only when the caller allows them ([`OpenOptions`]), and their
//! output is written to files so that the rest of asrpipe (the feature cache, provenance hashes)
//! reads it like any audio file. Other extended file names (`ark:`, `file.ark:123`) are refused.
//!
//! Phone labels in alignments are read as in TextGrids: ARPAbet stress digits and Kaldi's
//! word-position suffixes (`_B`, `_I`, `_E`, `_S`) are dropped, `sil`/`sp` become `h#` at an
//! utterance's edge and `pau` inside, `spn` is left out; the rest must be TIMIT phones. Utterances
//! without an alignment have no phone segments ([`Utterance::has_alignment`] is false).
//!
//! Every utterance's sentence id is its utterance id (a data directory does not say which
//! utterances read the same prompt). Every problem is an error naming the file and line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{
    Corpus, CorpusKind, Gender, PhoneSet, Segment, Span, TranscriptText, Utterance, textgrid, timit,
};
use crate::audio::{self, Channel};
use crate::error::{Error, Result};

/// How far (seconds) a segment may run past its recording's end before it is an error: Kaldi's
/// `extract-segments --max-overshoot` default. Less than this is cut at the end.
pub const MAX_OVERSHOOT_SECS: f64 = 0.5;

/// How a corpus is opened: what it may run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// `Some(dir)`: run `wav.scp` command entries (`... |`) with `sh -c`, writing each one's audio
    /// to a file under `dir`. `None`: refuse them.
    pub command_output: Option<PathBuf>,
}

/// One line of a Kaldi table file: the key, the rest of the line, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLine {
    /// The first field.
    pub key: String,
    /// Everything after the first run of white space, trimmed.
    pub rest: String,
    /// 1-based line number.
    pub line: usize,
}

/// Read a Kaldi table file (`key rest-of-line` per line). Blank lines are skipped; a key given
/// twice is an error naming both lines.
pub fn read_table(path: &Path) -> Result<Vec<TableLine>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::at_line(path, line, "not UTF-8 text")
    })?;
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let (key, rest) = raw
            .split_once(|c: char| c.is_whitespace())
            .unwrap_or((raw, ""));
        if let Some(prev) = seen.insert(key.to_string(), line) {
            return Err(Error::at_line(
                path,
                line,
                format!("`{key}` was already given on line {prev}"),
            ));
        }
        out.push(TableLine {
            key: key.to_string(),
            rest: rest.trim().to_string(),
            line,
        });
    }
    Ok(out)
}

/// Where a `wav.scp` entry's audio comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WavSource {
    /// A file, as written (relative paths are relative to the current directory).
    File(PathBuf),
    /// A shell command (the entry without its trailing `|`) that writes the audio to stdout.
    Command(String),
}

/// One `wav.scp` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavEntry {
    /// The recording id.
    pub id: String,
    /// Its audio.
    pub source: WavSource,
    /// 1-based line in `wav.scp`.
    pub line: usize,
}

/// Read a `wav.scp` (or any list of `id path` lines). Files are not checked here
/// ([`WavEntry::resolve`] does it).
pub fn read_wav_scp(path: &Path) -> Result<Vec<WavEntry>> {
    read_table(path)?
        .into_iter()
        .map(|t| {
            if t.rest.is_empty() {
                return Err(Error::at_line(
                    path,
                    t.line,
                    format!("`{}` has no audio: expected `<id> <path>`", t.key),
                ));
            }
            let source = match t.rest.strip_suffix('|') {
                Some(cmd) => WavSource::Command(cmd.trim().to_string()),
                None if t.rest.ends_with(".ark") || t.rest.contains(".ark:") => {
                    return Err(Error::at_line(
                        path,
                        t.line,
                        format!(
                            "`{}` is an archive entry; asrpipe reads audio files and commands \
                             (`... |`) only: extract the audio to files first",
                            t.rest
                        ),
                    ));
                }
                None => WavSource::File(PathBuf::from(&t.rest)),
            };
            Ok(WavEntry {
                id: t.key,
                source,
                line: t.line,
            })
        })
        .collect()
}

impl WavEntry {
    /// The audio file of this entry: the file itself (which must exist), or, for a command, the
    /// file its output was written to, when `opts` allows commands. `scp` names the list in errors.
    pub fn resolve(&self, scp: &Path, opts: &OpenOptions) -> Result<PathBuf> {
        match &self.source {
            WavSource::File(p) => {
                if p.is_file() {
                    Ok(p.clone())
                } else {
                    Err(Error::at_line(
                        scp,
                        self.line,
                        format!(
                            "audio file {} not found (paths in a wav.scp are used as written: \
                             relative ones are relative to the current directory, as in Kaldi)",
                            p.display()
                        ),
                    ))
                }
            }
            WavSource::Command(cmd) => {
                let Some(dir) = &opts.command_output else {
                    return Err(Error::at_line(
                        scp,
                        self.line,
                        format!(
                            "`{cmd} |` is a command; asrpipe runs wav.scp commands only when \
                             given --allow-commands (it then runs them with sh -c)"
                        ),
                    ));
                };
                run_command(cmd, dir).map_err(|msg| {
                    Error::at_line(scp, self.line, format!("command `{cmd} |` {msg}"))
                })
            }
        }
    }
}

/// Run `cmd` with `sh -c`, writing its standard output to a file under `dir` named by the
/// command's hash; the file's path. Errors say how the command failed.
fn run_command(cmd: &str, dir: &Path) -> std::result::Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!(": cannot create {}: {e}", dir.display()))?;
    let name = &blake3::hash(cmd.as_bytes()).to_hex()[..32];
    let out = dir.join(format!("{name}.audio"));
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("could not be started: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let last = err.lines().last().unwrap_or("").trim();
        return Err(format!(
            "failed ({}){}",
            output.status,
            if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            }
        ));
    }
    if output.stdout.is_empty() {
        return Err("wrote no audio to its standard output".into());
    }
    crate::io::atomic::write_bytes(&out, &output.stdout).map_err(|e| format!(": {e}"))?;
    Ok(out)
}

/// True when `dir` looks like a Kaldi data directory (it has a `wav.scp`).
pub fn is_data_dir(dir: &Path) -> bool {
    dir.join("wav.scp").is_file()
}

/// A recording as found: its audio file and what its header says.
struct Recording {
    audio: PathBuf,
    info: audio::Info,
}

/// Read the data directory `dir` (see the module documentation).
pub fn read(dir: &Path, opts: &OpenOptions) -> Result<Corpus> {
    let scp = dir.join("wav.scp");
    let entries = read_wav_scp(&scp)?;
    if entries.is_empty() {
        return Err(Error::format(&scp, "no recordings"));
    }
    let recordings = probe_recordings(&entries, &scp, opts)?;
    let seg_path = dir.join("segments");
    let cuts = read_cuts(&entries, &scp, &seg_path, &recordings)?;
    let defined: HashMap<&str, (&Path, usize)> = cuts
        .iter()
        .map(|c| (c.id.as_str(), (c.file.as_path(), c.line)))
        .collect();
    let cut_list = if seg_path.is_file() {
        "segments"
    } else {
        "wav.scp"
    };
    // Lines of an optional per-utterance file must name known utterances.
    let known = |path: &Path, t: &TableLine| -> Result<()> {
        if defined.contains_key(t.key.as_str()) {
            Ok(())
        } else {
            Err(Error::at_line(
                path,
                t.line,
                format!("utterance `{}` is not in {cut_list}", t.key),
            ))
        }
    };

    let u2s_path = dir.join("utt2spk");
    if !u2s_path.is_file() {
        return Err(Error::format(
            dir,
            "a Kaldi data directory needs utt2spk (`<utterance> <speaker>` per line) beside wav.scp",
        ));
    }
    let mut speaker_of = read_utt2spk(&u2s_path, |t| known(&u2s_path, t))?;
    for c in &cuts {
        if !speaker_of.contains_key(&c.id) {
            return Err(no_speaker(&c.file, c.line, &c.id, "utt2spk"));
        }
    }
    check_spk2utt(&dir.join("spk2utt"), &speaker_of)?;
    let gender_of = read_spk2gender(&dir.join("spk2gender"))?;
    let text_path = dir.join("text");
    let mut text_of = if text_path.is_file() {
        read_text(&text_path, |t| known(&text_path, t))?
    } else {
        HashMap::new()
    };

    let phones = PhoneSet::timit();
    let ctm_path = dir.join("phones.ctm");
    let rate_of: HashMap<&str, u32> = cuts
        .iter()
        .map(|c| (c.id.as_str(), c.rec.info.sample_rate))
        .collect();
    let mut alignments = Alignments {
        ctm: if ctm_path.is_file() {
            read_ctm(&ctm_path, &rate_of, &defined, cut_list, phones)?
        } else {
            HashMap::new()
        },
        ctm_path,
        tg_dir: dir.join("textgrids"),
        phones,
    };

    let mut utts = Vec::with_capacity(cuts.len());
    for c in cuts {
        let rate = c.rec.info.sample_rate;
        let length = c.span.map_or(c.rec.info.frames, |s| s.len());
        let (phone_file, phone_segs, words) = alignments.of(&c, length)?;
        let speaker = speaker_of.remove(&c.id).expect("checked above");
        let transcript = text_of.remove(&c.id);
        utts.push(Utterance {
            gender: gender_of.get(&speaker).copied().unwrap_or(Gender::Unknown),
            speaker,
            dialect: String::new(),
            sentence: c.id.clone(),
            audio: c.rec.audio.clone(),
            channel: c.channel,
            phone_file,
            phones: phone_segs,
            words,
            text: transcript.as_ref().map(|t| t.text.clone()),
            transcript,
            sample_rate: rate,
            num_samples: Some(length),
            subset: None,
            span: c.span,
            speed: None,
            id: c.id,
        });
    }
    Corpus::from_utterances(dir, CorpusKind::KaldiDir, utts)
}

/// Every recording of `wav.scp` (`entries`), found (commands run) and probed, by id.
fn probe_recordings(
    entries: &[WavEntry],
    scp: &Path,
    opts: &OpenOptions,
) -> Result<HashMap<String, Recording>> {
    entries
        .par_iter()
        .map(|e| {
            let audio = e.resolve(scp, opts)?;
            let info = audio::probe(&audio).map_err(|err| {
                let what = match &e.source {
                    WavSource::Command(c) => format!("the output of `{c} |`: "),
                    WavSource::File(_) => String::new(),
                };
                Error::at_line(scp, e.line, format!("{what}{err}"))
            })?;
            Ok((e.id.clone(), Recording { audio, info }))
        })
        .collect()
}

/// An utterance as defined: its id, recording, span, channel, and the file and line that
/// defined it.
struct Cut<'a> {
    id: String,
    rec: &'a Recording,
    span: Option<Span>,
    channel: Option<Channel>,
    file: PathBuf,
    line: usize,
}

/// The utterances: the lines of `segments` (at `seg_path`) if there is one, else the
/// recordings of `wav.scp` whole.
fn read_cuts<'a>(
    entries: &[WavEntry],
    scp: &Path,
    seg_path: &Path,
    recordings: &'a HashMap<String, Recording>,
) -> Result<Vec<Cut<'a>>> {
    if seg_path.is_file() {
        read_table(seg_path)?
            .into_iter()
            .map(|t| {
                let (rec_id, span, channel) = parse_segment(&t, seg_path, recordings)?;
                Ok(Cut {
                    id: t.key,
                    rec: &recordings[rec_id.as_str()],
                    span: Some(span),
                    channel,
                    file: seg_path.to_path_buf(),
                    line: t.line,
                })
            })
            .collect()
    } else {
        Ok(entries
            .iter()
            .map(|e| Cut {
                id: e.id.clone(),
                rec: &recordings[e.id.as_str()],
                span: None,
                channel: None,
                file: scp.to_path_buf(),
                line: e.line,
            })
            .collect())
    }
}

/// The transcripts of `text` (at `path`), each line's utterance first checked by `known`.
fn read_text(
    path: &Path,
    known: impl Fn(&TableLine) -> Result<()>,
) -> Result<HashMap<String, TranscriptText>> {
    let mut text_of = HashMap::new();
    for t in read_table(path)? {
        known(&t)?;
        text_of.insert(
            t.key,
            TranscriptText {
                text: t.rest,
                file: path.to_path_buf(),
                line: t.line,
            },
        );
    }
    Ok(text_of)
}

/// Where the utterances' phone alignments come from: `phones.ctm` (read), else one TextGrid
/// per utterance under `textgrids/`.
struct Alignments<'a> {
    ctm: HashMap<String, Vec<Segment>>,
    ctm_path: PathBuf,
    tg_dir: PathBuf,
    phones: &'a PhoneSet,
}

impl Alignments<'_> {
    /// The alignment of `c` (`length` samples long): the file it came from (the cut's own
    /// definition when it has none), its phone segments and its word segments.
    fn of(&mut self, c: &Cut<'_>, length: u64) -> Result<(PathBuf, Vec<Segment>, Vec<Segment>)> {
        let rate = c.rec.info.sample_rate;
        let tg = self.tg_dir.join(format!("{}.TextGrid", c.id));
        let (phone_file, phone_segs, words) = if let Some(segs) = self.ctm.remove(&c.id) {
            (self.ctm_path.clone(), segs, Vec::new())
        } else if tg.is_file() {
            let grid = textgrid::read(&tg)?;
            let (p, w) = textgrid::alignment(&grid, &tg, rate, self.phones)?;
            (tg, p, w)
        } else {
            (c.file.clone(), Vec::new(), Vec::new())
        };
        if let Some(last) = phone_segs.last()
            && last.end > length
        {
            return Err(Error::at_line(
                &phone_file,
                last.line,
                format!(
                    "the alignment of `{}` ends at sample {} but the utterance has {length} \
                     samples",
                    c.id, last.end
                ),
            ));
        }
        Ok((phone_file, phone_segs, words))
    }
}

/// The speaker of each utterance in `path` (`utt2spk`: `<utterance> <speaker>` per line), each
/// line's utterance first checked by `known`.
pub fn read_utt2spk(
    path: &Path,
    known: impl Fn(&TableLine) -> Result<()>,
) -> Result<HashMap<String, String>> {
    let mut speaker_of: HashMap<String, String> = HashMap::new();
    for t in read_table(path)? {
        known(&t)?;
        if t.rest.is_empty() || t.rest.contains(char::is_whitespace) {
            return Err(Error::at_line(
                path,
                t.line,
                "expected `<utterance> <speaker>`",
            ));
        }
        speaker_of.insert(t.key, t.rest);
    }
    Ok(speaker_of)
}

/// The error for utterance `id`, defined at `file`:`line`, that `utt2spk` (the file as named to
/// the user) has no line for.
pub fn no_speaker(file: &Path, line: usize, id: &str, utt2spk: &str) -> Error {
    Error::at_line(
        file,
        line,
        format!("utterance `{id}` has no speaker: {utt2spk} has no line for it"),
    )
}

/// One `segments` line: its recording id, its span in samples, its channel.
fn parse_segment(
    t: &TableLine,
    path: &Path,
    recordings: &HashMap<String, Recording>,
) -> Result<(String, Span, Option<Channel>)> {
    let at = |msg: String| Error::at_line(path, t.line, msg);
    let f: Vec<&str> = t.rest.split_whitespace().collect();
    if !(3..=4).contains(&f.len()) {
        return Err(at(format!(
            "expected `<utterance> <recording> <start> <end> [<channel>]`, got {} fields",
            f.len() + 1
        )));
    }
    let rec = recordings.get(f[0]).ok_or_else(|| {
        at(format!(
            "recording `{}` of utterance `{}` is not in wav.scp",
            f[0], t.key
        ))
    })?;
    let secs = |s: &str, what: &str| -> Result<f64> {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| at(format!("{what} `{s}` is not a number of seconds")))
    };
    let start = secs(f[1], "start")?;
    let end = secs(f[2], "end")?;
    if start < 0.0 || (end != -1.0 && end <= start) {
        return Err(at(format!(
            "segment {start}..{end} s is empty or negative (end -1 means the end of the recording)"
        )));
    }
    let rate = f64::from(rec.info.sample_rate);
    let have = rec.info.frames;
    // Kaldi's extract-segments truncates both ends to whole samples.
    let first = (start * rate) as u64;
    let mut last = if end == -1.0 {
        have
    } else {
        (end * rate) as u64
    };
    let secs_of = |n: u64| n as f64 / rate;
    if first >= have {
        return Err(at(format!(
            "segment starts at {start} s, at or past the end of recording `{}` ({} s, {have} \
             samples)",
            f[0],
            secs_of(have)
        )));
    }
    if last > have {
        if last >= have + (MAX_OVERSHOOT_SECS * rate) as u64 {
            return Err(at(format!(
                "segment ends at {end} s, past the end of recording `{}` ({} s, {have} samples) \
                 by more than Kaldi's max-overshoot of {MAX_OVERSHOOT_SECS} s",
                f[0],
                secs_of(have)
            )));
        }
        last = have;
    }
    let channel = match f.get(3) {
        None => None,
        Some(c) => {
            let n: usize = c
                .parse()
                .map_err(|_| at(format!("channel `{c}` is not a number from 0")))?;
            if n >= rec.info.channels {
                return Err(at(format!(
                    "channel {n}, but recording `{}` has {} channel(s)",
                    f[0], rec.info.channels
                )));
            }
            Some(Channel::Index(n))
        }
    };
    Ok((
        f[0].to_string(),
        Span {
            start: first,
            end: last,
        },
        channel,
    ))
}

/// Check `spk2utt`, when there is one, against `utt2spk`: the same pairs.
fn check_spk2utt(path: &Path, speaker_of: &HashMap<String, String>) -> Result<()> {
    if !path.is_file() {
        return Ok(());
    }
    let mut count: HashMap<&str, usize> = HashMap::new();
    for s in speaker_of.values() {
        *count.entry(s.as_str()).or_default() += 1;
    }
    for t in read_table(path)? {
        let mut n = 0;
        for u in t.rest.split_whitespace() {
            n += 1;
            if speaker_of.get(u).map(String::as_str) != Some(t.key.as_str()) {
                return Err(Error::at_line(
                    path,
                    t.line,
                    format!(
                        "utterance `{u}` of speaker `{}` is {} in utt2spk",
                        t.key,
                        speaker_of
                            .get(u)
                            .map_or("missing".to_string(), |s| format!("of speaker `{s}`"))
                    ),
                ));
            }
        }
        let want = count.get(t.key.as_str()).copied().unwrap_or(0);
        if n != want {
            return Err(Error::at_line(
                path,
                t.line,
                format!(
                    "speaker `{}` has {n} utterances here and {want} in utt2spk",
                    t.key
                ),
            ));
        }
    }
    Ok(())
}

/// Speakers' genders from `spk2gender`, when there is one.
fn read_spk2gender(path: &Path) -> Result<HashMap<String, Gender>> {
    if !path.is_file() {
        return Ok(HashMap::new());
    }
    read_table(path)?
        .into_iter()
        .map(|t| {
            let g = match t.rest.as_str() {
                "m" | "M" => Gender::Male,
                "f" | "F" => Gender::Female,
                g => {
                    return Err(Error::at_line(
                        path,
                        t.line,
                        format!("gender `{g}`: expected m or f"),
                    ));
                }
            };
            Ok((t.key, g))
        })
        .collect()
}

/// A phone label of a Kaldi alignment, as a TIMIT label (`None`: leave the segment out).
fn ctm_label(raw: &str, at_edge: bool) -> Option<String> {
    let bare = match raw.rsplit_once('_') {
        Some((p, "B" | "I" | "E" | "S")) => p,
        _ => raw,
    };
    textgrid::normalise(bare, at_edge)
}

/// Phone segments per utterance from a CTM file (times in seconds from the utterance start).
fn read_ctm(
    path: &Path,
    rate_of: &HashMap<&str, u32>,
    defined: &HashMap<&str, (&Path, usize)>,
    cut_list: &str,
    phones: &PhoneSet,
) -> Result<HashMap<String, Vec<Segment>>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    // Per utterance: (start, end, label as written, line), in file order.
    let mut raw: BTreeMap<&str, Vec<(u64, u64, &str, usize)>> = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let at = |msg: String| Error::at_line(path, line, msg);
        if !(5..=6).contains(&f.len()) {
            return Err(at(format!(
                "expected `<utterance> <channel> <start> <duration> <phone> [<confidence>]`, got \
                 {} fields",
                f.len()
            )));
        }
        if !defined.contains_key(f[0]) {
            return Err(at(format!("utterance `{}` is not in {cut_list}", f[0])));
        }
        let rate = f64::from(rate_of[f[0]]);
        let secs = |s: &str, what: &str| -> Result<f64> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    at(format!(
                        "{what} `{s}` is not a non-negative number of seconds"
                    ))
                })
        };
        let start = secs(f[2], "start")?;
        let dur = secs(f[3], "duration")?;
        let s = (start * rate).round() as u64;
        let e = ((start + dur) * rate).round() as u64;
        raw.entry(f[0]).or_default().push((s, e, f[4], line));
    }
    let mut out = HashMap::new();
    for (utt, segs) in raw {
        let last = segs.len() - 1;
        let mut kept = Vec::with_capacity(segs.len());
        for (i, (start, end, label, line)) in segs.into_iter().enumerate() {
            let Some(name) = ctm_label(label, i == 0 || i == last) else {
                continue;
            };
            if phones.p61.id(&name).is_none() {
                return Err(Error::at_line(
                    path,
                    line,
                    format!(
                        "unknown phone `{label}` (read as `{name}`; expected a TIMIT or ARPAbet \
                         phone)"
                    ),
                ));
            }
            kept.push(Segment {
                start,
                end,
                label: name,
                line,
            });
        }
        timit::check_phones(&kept, path, phones)?;
        out.insert(utt.to_string(), kept);
    }
    Ok(out)
}
