# Sourced by scripts/bench-memory.sh and scripts/bench-speed.sh (from the repository root), after
# they have set $timit: checks the TIMIT sample and the tools (/usr/bin/time, sox) are there, makes
# a temporary $dir (removed on exit) and in it the 1-hour 16 kHz WAV $dir/hour.wav (every TIMIT
# utterance in order, repeated until past 3600 s, then cut), and sets $hour_secs to its length.
if [[ ! -d $timit ]]; then echo "$timit: no TIMIT sample there (give --timit DIR)" >&2; exit 1; fi
for tool in /usr/bin/time sox; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install time sox)" >&2; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mapfile -t wavs < <(find "$timit" -name '*.wav' -o -name '*.WAV' | sort)
if [[ ${#wavs[@]} -eq 0 ]]; then echo "$timit: no .wav files" >&2; exit 1; fi
list=()
for _ in $(seq 8); do list+=("${wavs[@]}"); done
sox "${list[@]}" -r 16000 -c 1 -b 16 "$dir/hour.wav" trim 0 3600
hour_secs=$(printf %.0f "$(soxi -D "$dir/hour.wav")")
