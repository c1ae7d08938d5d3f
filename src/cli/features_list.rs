//! `asrpipe features --list wav.scp [--shard K/N]`: the utterances of a Kaldi-style list (and the
//! speakers of the `utt2spk` beside it), or one shard of them.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use asrpipe::corpus::OpenOptions;
use asrpipe::corpus::kaldi_dir;
use asrpipe::corpus::shard::{self, Shard};
use asrpipe::frontend::cmvn::{CmvnMode, CmvnStats};
use asrpipe::pipeline::extractor::Extractor;
use ndarray::Array2;
use rayon::prelude::*;

/// Features of the list's utterances (of one shard when `shard` is given), keyed by utterance id,
/// in list order within each speaker. Speaker CMVN pools each speaker's utterances in the list
/// (shards keep speakers whole, so a shard gives the same features as the whole list).
pub fn features(
    list: &Path,
    shard: Option<Shard>,
    opts: &OpenOptions,
    extractor: &Extractor,
    progress: impl Fn() + Sync,
) -> Result<Vec<(String, Array2<f32>)>> {
    let entries = kaldi_dir::read_wav_scp(list)?;
    if entries.is_empty() {
        bail!("{}: the list is empty", list.display());
    }
    let dir = list.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if dir.join("segments").is_file() {
        bail!(
            "{}: the list's directory has a segments file, whose utterances are parts of the \
             list's recordings; --list computes whole recordings: cut them first (Kaldi's \
             extract-segments) or give the directory as --corpus to commands that read corpora",
            list.display()
        );
    }
    let u2s = dir.join("utt2spk");
    let speakers: Option<Vec<String>> = if u2s.is_file() {
        let mut of = kaldi_dir::read_utt2spk(&u2s, |_| Ok(()))?;
        Some(
            entries
                .iter()
                .map(|e| {
                    of.remove(&e.id).ok_or_else(|| {
                        kaldi_dir::no_speaker(list, e.line, &e.id, &u2s.display().to_string())
                    })
                })
                .collect::<Result<_, _>>()?,
        )
    } else {
        None
    };
    let chosen: Vec<usize> = match (shard, &speakers) {
        (None, _) => (0..entries.len()).collect(),
        (Some(s), Some(spk)) => {
            let names: Vec<&str> = spk.iter().map(String::as_str).collect();
            shard::by_speaker(&names, s.count)
                .with_context(|| format!("splitting {} by {}", list.display(), u2s.display()))?
                .swap_remove(s.index - 1)
        }
        (Some(s), None) => shard::by_lines(entries.len(), s.count)
            .with_context(|| format!("splitting {}", list.display()))?
            .swap_remove(s.index - 1)
            .collect(),
    };
    let feats = chosen
        .par_iter()
        .map(|&i| {
            let e = &entries[i];
            let path = e.resolve(list, opts)?;
            let wav = extractor.read_audio(&path)?;
            let m = extractor.chain_read(&wav, &e.id, &path)?;
            progress();
            Ok(m)
        })
        .collect::<asrpipe::Result<Vec<_>>>()?;
    let pooled = pooled_stats(extractor, list, speakers.as_deref(), &chosen, &feats)?;
    let feats = extractor.post(feats, pooled.as_deref())?;
    Ok(chosen
        .iter()
        .map(|&i| entries[i].id.clone())
        .zip(feats)
        .collect())
}

/// The CMVN statistics each chosen utterance is normalised with: for `speaker`, its speaker's
/// utterances in the list, merged in list order (the same bits in any shard); for `global`, the
/// statistics a trained model stored (a shard alone cannot pool the whole list).
fn pooled_stats(
    extractor: &Extractor,
    list: &Path,
    speakers: Option<&[String]>,
    chosen: &[usize],
    chained: &[Array2<f32>],
) -> Result<Option<Vec<Option<CmvnStats>>>> {
    Ok(match extractor.pipeline.post.cmvn.mode {
        CmvnMode::None | CmvnMode::Utterance => None,
        CmvnMode::Global => match &extractor.global_cmvn {
            Some(g) => Some(vec![Some(g.clone()); chosen.len()]),
            None => bail!(
                "{}: post.cmvn mode `global` pools a training set, which a list (or one shard of \
                 it) does not define: use a model's pipeline with stored statistics, or mode \
                 `speaker`/`utterance`",
                list.display()
            ),
        },
        CmvnMode::Speaker => {
            let Some(spk) = speakers else {
                bail!(
                    "{}: post.cmvn mode `speaker` needs the speakers: put an utt2spk beside the \
                     list",
                    list.display()
                );
            };
            let mut by: HashMap<&str, CmvnStats> = HashMap::new();
            for (&i, x) in chosen.iter().zip(chained) {
                let mut st = CmvnStats::new(x.ncols());
                st.accumulate(x.view());
                by.entry(spk[i].as_str())
                    .or_insert_with(|| CmvnStats::new(x.ncols()))
                    .merge(&st);
            }
            Some(
                chosen
                    .iter()
                    .map(|&i| by.get(spk[i].as_str()).cloned())
                    .collect(),
            )
        }
    })
}
