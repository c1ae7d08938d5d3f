# Sourced by the features-*.sh recipes before they read their options: what they share.

# The options every recipe takes besides its own: -h/--help (the script's head comment), `--`
# and the first non-option end the options (returns 1), anything else starting with `-` is an
# error.
common_option() {
  case $1 in
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) [[ $1 == -- ]] && return 1; echo "$0: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) return 1 ;;
  esac
}

# The arguments after the options, `WAV_SCP N OUTDIR [-- ARGS...]` ($1 is the usage line of the
# options): sets $list, $n, $out and the array $rest (ARGS, for `asrpipe features`).
positional() {
  local usage=$1
  shift
  if [[ $# -lt 3 ]]; then
    echo "usage: $0 $usage WAV_SCP N OUTDIR [-- ARGS...]" >&2
    exit 2
  fi
  list=$1 n=$2 out=$3
  shift 3
  [[ ${1:-} == -- ]] && shift
  rest=("$@")
}

# Once $list, $n, $out and $pipeline are read: checks them, makes every path absolute (the scp
# files name their archives, and other hosts start in another directory), finds asrpipe
# ($ASRPIPE, else on the PATH), prepares OUTDIR/log and removes the outputs of an earlier run.
# Sets $asrpipe and the array $opts of `asrpipe features` options.
prepare() {
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "$0: N must be a positive number, got '$n'" >&2; exit 2; }
  [[ -f $list ]] || { echo "$0: $list: no such list" >&2; exit 1; }
  asrpipe=${ASRPIPE:-$(command -v asrpipe || true)}
  [[ -n $asrpipe ]] || { echo "$0: no asrpipe binary: set \$ASRPIPE or put asrpipe on the PATH" >&2; exit 1; }
  mkdir -p "$out/log"
  out=$(cd "$out" && pwd)
  list=$(abs "$list")
  asrpipe=$(abs "$asrpipe")
  opts=(--quiet)
  [[ -n $pipeline ]] && opts+=(--pipeline "$(abs "$pipeline")")
  rm -f "$out"/feats.*.ark "$out"/feats.*.scp "$out/feats.scp"
}

abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
