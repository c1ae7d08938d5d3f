#!/usr/bin/env bash
# A development corpus for tuning decoding options on the NLTK TIMIT sample, which has no dev
# speakers: a manifest (paths only, nothing copied) of its 12 training speakers. asrpipe splits a
# manifest with the balanced rule, so 8 of them train and 4 (2 female, 2 male) are held out as the
# manifest's "test" split: tune there (scripts/tune-decode.sh), never on the sample's test speakers.
#
#   scripts/timit-sample-dev-manifest.sh /path/to/timit-sample > dev-manifest.tsv
set -euo pipefail
root=$(cd "${1:?usage: $0 TIMIT_SAMPLE_DIR}" && pwd)
split=$(dirname "$0")/../data/splits/timit-sample.tsv
printf 'audio\tspeaker\talignment\tsentence\tgender\tdialect\tid\n'
grep -v '^#' "$split" | awk -F'\t' '$2 == "train" { print $1 }' | sort | while read -r spk; do
  for wav in "$root/$spk"/*.wav; do
    stem=$(basename "$wav" .wav)
    code=${spk#*-}
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wav" "$spk" "${wav%.wav}.phn" "$stem" "${code:0:1}" \
      "${spk%%-*}" "$spk/$stem"
  done
done
