#!/usr/bin/env bash
# Features for a Kaldi-style list (wav.scp, with its utt2spk beside it) in N shards run by GNU
# parallel, on this machine or over ssh hosts, then one feats.scp indexing every shard's archive:
#
#   scripts/cluster/features-parallel.sh [options] WAV_SCP N OUTDIR [-- ASRPIPE_FEATURES_ARGS...]
#     -j JOBS          shards running at once (default: N)
#     -S LOGINS        ssh logins for GNU parallel (`host1,2/host2`, see `man parallel`, --sshlogin);
#                      the list, the audio, asrpipe, OUTDIR and the current directory must be at
#                      the same paths there (a shared file system)
#     --pipeline FILE  the pipeline YAML (default: asrpipe's built-in Kaldi MFCC)
#   Everything after `--` goes to `asrpipe features` (e.g. `--threads 1`, `--allow-commands`).
#
# Shard K of N is `asrpipe features --list WAV_SCP --shard K/N`: whole speakers, by the rule of
# Kaldi's split_data.sh, so speaker CMVN sees all of a speaker. It writes OUTDIR/feats.K.ark and
# OUTDIR/feats.K.scp (log: OUTDIR/log/features.K.log); OUTDIR/feats.scp is their concatenation,
# readable by Kaldi (`copy-feats scp:OUTDIR/feats.scp ark,t:-`), kaldiio and `asrpipe train
# --features`. The asrpipe binary is $ASRPIPE, else `asrpipe` on the PATH.
set -euo pipefail
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"

jobs="" logins="" pipeline=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -j) jobs=$2; shift 2 ;;
    -S) logins=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    *) common_option "$1" || break ;;
  esac
done
positional "[-j JOBS] [-S LOGINS] [--pipeline FILE]" "$@"
command -v parallel >/dev/null || {
  echo "$0: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
prepare

par=(--halt now,fail=1 --joblog "$out/log/parallel.joblog" -j "${jobs:-$n}")
# Remote shards start in this directory too, so wav.scp paths relative to it (as Kaldi writes
# them) resolve there as here.
[[ -n $logins ]] && par+=(-S "$logins" --workdir "$PWD")
# shellcheck disable=SC2016
parallel "${par[@]}" \
  "$asrpipe" features "${opts[@]}" --list "$list" --shard '{}'/"$n" \
    -o "$out/feats.{}.ark" --scp "$out/feats.{}.scp" "${rest[@]}" '2>' "$out/log/features.{}.log" \
  ::: $(seq 1 "$n") || {
  echo "$0: a shard failed; its log:" >&2
  for k in $(seq 1 "$n"); do
    [[ -s $out/log/features.$k.log ]] && { echo "== $out/log/features.$k.log" >&2; cat "$out/log/features.$k.log" >&2; }
  done
  exit 1
}
for k in $(seq 1 "$n"); do cat "$out/feats.$k.scp"; done > "$out/feats.scp.tmp"
mv "$out/feats.scp.tmp" "$out/feats.scp"
echo "$(wc -l < "$out/feats.scp") utterances in $n shards -> $out/feats.scp" >&2
