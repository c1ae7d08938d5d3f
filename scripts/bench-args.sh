# Sourced by scripts/bench-peers.sh and scripts/bench-tsne.sh (from the repository root): reads
# their shared options (--quick, --markdown FILE, --timit DIR, --keep DIR: see the top of each),
# checks the TIMIT sample is there, and sets $quick, $markdown, $timit and $dir (where the data
# and raw outputs go: --keep's directory, else a temporary one removed on exit).
quick=0 markdown="" keep=""
timit=${ASRPIPE_TIMIT_SAMPLE:-../shared/corpora/timit-sample}
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1; shift ;;
    --markdown) markdown=$2; shift 2 ;;
    --timit) timit=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
if [[ ! -d $timit ]]; then echo "$timit: no TIMIT sample there (give --timit DIR)" >&2; exit 1; fi
if [[ -n $keep ]]; then dir=$keep; mkdir -p "$dir"; else dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; fi
