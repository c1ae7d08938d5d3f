//! Shards of a list of utterances, by the rule of Kaldi's `split_data.sh` (its `split_scp.pl`), so
//! that `asrpipe features --shard K/N` processes the same utterances as Kaldi's job K of N.
//!
//! With speakers (an `utt2spk`), shards are whole speakers, so that per-speaker CMVN sees all of a
//! speaker's utterances: speakers are taken in the order they first appear, speaker `s` of `S`
//! starts in shard `floor(s N / S)`, then boundary speakers move to the neighbouring shard while
//! that makes the two shards' utterance counts closer, until no move helps. Without speakers the
//! list is cut into `N` runs of consecutive lines, the first `len mod N` one line longer.
//! Shards are numbered from 1, as in Kaldi.

use std::str::FromStr;

use crate::error::{Error, Result};

/// Shard `index` of `count` (1-based): `K/N` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1 to `count`.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard `{s}`: expected K/N, e.g. 2/4"))?;
        let (k, n): (usize, usize) = match (k.trim().parse(), n.trim().parse()) {
            (Ok(k), Ok(n)) => (k, n),
            _ => return Err(format!("shard `{s}`: K and N must be whole numbers")),
        };
        if n == 0 || k == 0 || k > n {
            return Err(format!(
                "shard `{s}`: K must be from 1 to N (shards are numbered from 1, as in Kaldi's \
                 split_data.sh: 1/4 .. 4/4)"
            ));
        }
        Ok(Shard { index: k, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The items of each of `n` shards (indices into `speakers`, one speaker per item), whole
/// speakers per shard as `split_scp.pl --utt2spk` assigns them (see the module documentation).
/// Fewer speakers than shards, or a shard left empty, is an error, as in Kaldi.
pub fn by_speaker(speakers: &[&str], n: usize) -> Result<Vec<Vec<usize>>> {
    // Speakers in order of first appearance, with their items.
    let mut order: Vec<&str> = Vec::new();
    let mut items: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, &s) in speakers.iter().enumerate() {
        items
            .entry(s)
            .or_insert_with(|| {
                order.push(s);
                Vec::new()
            })
            .push(i);
    }
    let spk = order.len();
    if spk < n {
        return Err(Error::invalid(format!(
            "cannot split {spk} speaker(s) into {n} shards: a speaker is never split (as in \
             Kaldi's split_data.sh); use at most {spk} shards"
        )));
    }
    let count = |s: &str| items[s].len() as i64;
    let mut shards: Vec<std::collections::VecDeque<&str>> = vec![Default::default(); n];
    let mut sizes = vec![0i64; n];
    for (s, &name) in order.iter().enumerate() {
        let k = s * n / spk;
        shards[k].push_back(name);
        sizes[k] += count(name);
    }
    let mut changed = true;
    while changed {
        changed = false;
        for k in 0..n {
            if k + 1 < n
                && let Some(&last) = shards[k].back()
            {
                let c = count(last);
                let (a, b) = (sizes[k], sizes[k + 1]);
                if ((b + c) - (a - c)).abs() < (b - a).abs() {
                    shards[k].pop_back();
                    shards[k + 1].push_front(last);
                    sizes[k] -= c;
                    sizes[k + 1] += c;
                    changed = true;
                }
            }
            if k > 0
                && let Some(&first) = shards[k].front()
            {
                let c = count(first);
                let (a, b) = (sizes[k - 1], sizes[k]);
                if ((b - c) - (a + c)).abs() < (b - a).abs() {
                    shards[k].pop_front();
                    shards[k - 1].push_back(first);
                    sizes[k] -= c;
                    sizes[k - 1] += c;
                    changed = true;
                }
            }
        }
    }
    if let Some(k) = shards.iter().position(|s| s.is_empty()) {
        return Err(Error::invalid(format!(
            "shard {}/{n} would be empty (too many shards for {spk} speakers)",
            k + 1
        )));
    }
    Ok(shards
        .into_iter()
        .map(|s| s.into_iter().flat_map(|name| items[name].clone()).collect())
        .collect())
}

/// `len` lines cut into `n` runs of consecutive lines (`split_scp.pl` without `--utt2spk`).
pub fn by_lines(len: usize, n: usize) -> Result<Vec<std::ops::Range<usize>>> {
    let per = len / n.max(1);
    if per == 0 {
        return Err(Error::invalid(format!(
            "cannot split {len} line(s) into {n} shards: use at most {len} shards"
        )));
    }
    let extra = len - per * n;
    let mut start = 0;
    Ok((0..n)
        .map(|k| {
            let end = start + per + usize::from(k < extra);
            let r = start..end;
            start = end;
            r
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_are_one_based() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["0/4", "5/4", "1/0", "x/4", "3"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
        assert!(
            "0/4"
                .parse::<Shard>()
                .unwrap_err()
                .contains("numbered from 1")
        );
    }

    #[test]
    fn speakers_move_to_balance_as_split_scp_moves_them() {
        // Utterances per speaker: A 5, B 1, C 1, D 1, E 4, F 1. First A B | C D | E F (6, 2, 5
        // utterances); moving B to the second shard gives 5, 3, 5, and no further move helps.
        let spk: Vec<&str> = "A A A A A B C D E E E E F".split(' ').collect();
        let shards = by_speaker(&spk, 3).unwrap();
        assert_eq!(
            shards,
            vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7], vec![8, 9, 10, 11, 12]]
        );
        // A speaker's utterances stay together even when not consecutive in the list, in the
        // order of first appearance.
        let spk = ["b", "a", "b", "c", "a", "d"];
        assert_eq!(
            by_speaker(&spk, 2).unwrap(),
            vec![vec![0, 2, 1, 4], vec![3, 5]]
        );
        let e = by_speaker(&["a", "a", "b"], 3).unwrap_err().to_string();
        assert!(e.contains("2 speaker(s) into 3 shards"), "{e}");
    }

    #[test]
    fn lines_split_into_runs_longer_first() {
        assert_eq!(by_lines(10, 4).unwrap(), vec![0..3, 3..6, 6..8, 8..10]);
        assert!(by_lines(3, 4).is_err());
    }
}
