#!/usr/bin/env bash
# Features for a Kaldi-style list (wav.scp, with its utt2spk beside it) as a Slurm job array of N
# shards, then a job (run when every shard succeeded) that concatenates their scp files:
#
#   scripts/cluster/features-slurm.sh [options] WAV_SCP N OUTDIR [-- ASRPIPE_FEATURES_ARGS...]
#     --pipeline FILE  the pipeline YAML (default: asrpipe's built-in Kaldi MFCC)
#     --max-running J  at most J shards at once (the array's `%J`)
#     --wait           return when the concatenation job has finished (sbatch --wait)
#   Extra sbatch options (partition, time, memory, account) come from $SBATCH_ARGS, e.g.
#   SBATCH_ARGS="--partition=cpu --time=1:00:00 --mem=4G --cpus-per-task=4".
#   Everything after `--` goes to `asrpipe features` (e.g. `--threads 4`).
#
# Task K runs `asrpipe features --list WAV_SCP --shard K/N` (whole speakers, Kaldi's split_data.sh
# rule), writing OUTDIR/feats.K.ark and OUTDIR/feats.K.scp (log: OUTDIR/log/features.K.log); the
# last job writes OUTDIR/feats.scp. The list, the audio, asrpipe and OUTDIR must be on a file
# system the compute nodes share. The asrpipe binary is $ASRPIPE, else `asrpipe` on the PATH.
# Prints the two job ids.
set -euo pipefail
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"

pipeline="" max="" wait=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --pipeline) pipeline=$2; shift 2 ;;
    --max-running) max=$2; shift 2 ;;
    --wait) wait=(--wait); shift ;;
    *) common_option "$1" || break ;;
  esac
done
positional "[--pipeline FILE] [--max-running J] [--wait]" "$@"
command -v sbatch >/dev/null || { echo "$0: sbatch not found: is this a Slurm login node?" >&2; exit 1; }
prepare

# The task's command line, each word quoted for the shell sbatch runs it in.
task=$(printf '%q ' "$asrpipe" features "${opts[@]}" --list "$list" "${rest[@]}")
task+="--shard \$SLURM_ARRAY_TASK_ID/$n -o $(printf '%q' "$out")/feats.\$SLURM_ARRAY_TASK_ID.ark"
task+=" --scp $(printf '%q' "$out")/feats.\$SLURM_ARRAY_TASK_ID.scp"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_ARGS:-} --job-name=asrpipe-features \
  --array="1-$n${max:+%$max}" --output="$out/log/features.%a.log" --wrap="$task")
array=${array%%;*}
concat="set -e; for k in \$(seq 1 $n); do cat $(printf '%q' "$out")/feats.\$k.scp; done > $(printf '%q' "$out")/feats.scp.tmp"
concat+="; mv $(printf '%q' "$out")/feats.scp.tmp $(printf '%q' "$out")/feats.scp"
# shellcheck disable=SC2086
join=$(sbatch --parsable "${wait[@]}" ${SBATCH_ARGS:-} --job-name=asrpipe-features-scp \
  --dependency="afterok:$array" --output="$out/log/concat.log" --wrap="$concat")
echo "submitted: shards job $array (1-$n), concatenation job ${join%%;*} -> $out/feats.scp"
