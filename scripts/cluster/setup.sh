# Sourced by the features-*.sh recipes once they have read $list, $n, $out and $pipeline: checks
# them, makes every path absolute (the scp files name their archives, and other hosts start in
# another directory), finds asrpipe ($ASRPIPE, else on the PATH), prepares OUTDIR/log and removes
# the outputs of an earlier run. Sets $asrpipe and the array $opts of `asrpipe features` options.
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "$0: N must be a positive number, got '$n'" >&2; exit 2; }
[[ -f $list ]] || { echo "$0: $list: no such list" >&2; exit 1; }
asrpipe=${ASRPIPE:-$(command -v asrpipe || true)}
[[ -n $asrpipe ]] || { echo "$0: no asrpipe binary: set \$ASRPIPE or put asrpipe on the PATH" >&2; exit 1; }
abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
mkdir -p "$out/log"
out=$(cd "$out" && pwd)
list=$(abs "$list")
asrpipe=$(abs "$asrpipe")
opts=(--quiet)
[[ -n $pipeline ]] && opts+=(--pipeline "$(abs "$pipeline")")
rm -f "$out"/feats.*.ark "$out"/feats.*.scp "$out/feats.scp"
