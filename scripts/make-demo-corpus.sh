#!/usr/bin/env bash
# Builds audio/demo/, asrpipe's synthetic demo corpus, in TIMIT's layout:
#   audio/demo/<dr>-<gender><name><digit>/<utt>.{flac,phn,wrd,txt}
# plus speakers.tsv and README.md.
#
# Speech comes from Debian's festival voices; the phone and word boundaries
# are the segment times festival used to build each wave (no forced alignment),
# turned into TIMIT labels by scripts/demo-corpus/phones.map. A pseudo-speaker
# is a voice plus a duration stretch, a pitch change and a frequency warp.
#
# Usage: scripts/make-demo-corpus.sh
#        scripts/make-demo-corpus.sh --relabel OLD_LAG_MS
# The second form keeps the audio and only moves the boundaries of the labels
# in audio/demo/, made with a label lag of OLD_LAG_MS, to LABEL_LAG_MS (and
# rewrites audio/demo/README.md); the corpus committed before the lag existed
# was made with 0.
# Installs festival, its voices, sox and flac with apt-get when they are missing
# (needs root then). Deterministic: a second run gives the same bytes. The new
# corpus is built in a temporary folder and replaces audio/demo/ only at the end.
set -euo pipefail
export LC_ALL=C # same number formats and sort order everywhere

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
data=$here/demo-corpus
dest=$repo/audio/demo

# Pseudo-speakers, in the order that assigns sentences (see pick_sentences).
#   stretch  durations x stretch (festival's Duration_Stretch, or the HTS
#            voice's speed 1/stretch), so segment times stay exact;
#   pitch    cents, diphone voices only: festival scales their F0 targets.
#            The HTS voice predicts its own F0 and festival offers no control
#            of it; sox pitch would shift its timing by 5-15 ms, so its
#            speakers differ by warp instead;
#   warp     sox speed: frequencies (formants and F0) x warp, durations / warp,
#            a crude change of vocal-tract length. Pure resampling, so times
#            scale exactly.
# The dialect region in the name is a label only (one man and one woman per
# region, as in the TIMIT sample); the voices have no dialects.
SPEAKERS="\
dr1-mkal0 kal_diphone           m 1.00    0 1.00
dr1-fslt0 cmu_us_slt_arctic_hts f 1.00    0 1.00
dr2-mked0 ked_diphone           m 1.00    0 1.00
dr2-fslt1 cmu_us_slt_arctic_hts f 1.10    0 0.93
dr3-mkal1 kal_diphone           m 0.90  300 1.05
dr3-fslt2 cmu_us_slt_arctic_hts f 0.90    0 1.06
dr4-mked1 ked_diphone           m 1.10 -200 0.95
dr4-fslt3 cmu_us_slt_arctic_hts f 0.95    0 0.97
dr5-mkal2 kal_diphone           m 1.10 -250 0.97
dr5-fslt4 cmu_us_slt_arctic_hts f 1.05    0 1.03
dr6-mked2 ked_diphone           m 0.90  250 1.04
dr6-fslt5 cmu_us_slt_arctic_hts f 0.92    0 0.90"

SX_PER_SPEAKER=23 # besides sa1 and sa2; each sx sentence goes to 3 or 4 speakers
RATE=16000        # output sample rate (TIMIT's)
MIN_END_S=0.15    # shortest final h#; the HTS voice ends sentences abruptly
# Festival's segment times lead its audio: at boundaries with a sharp energy
# step (vowel -> voiceless stop closure, voiceless fricative -> vowel) the
# steepest 5 ms step comes a median 13 ms after the festival time (12, 19 and
# 10 ms for the three voices; 820 boundaries), where the same measure on
# TIMIT's hand labels gives 0 ms (419 boundaries). Every boundary between two
# phones is moved this much later (in festival time, so it scales with warp).
# scripts/demo-corpus/label-lag.py measures it (after this lag: 0 ms pooled).
LABEL_LAG_MS=13

TIMIT61="iy ih eh ey ae aa aw ay ah ao oy ow uh uw ux er ax ix axr ax-h jh ch b
d g p t k dx s sh z zh f th v dh m n ng em nx en eng l r w y hh hv el bcl dcl gcl
pcl tcl kcl q pau epi h#"

die() { echo "make-demo-corpus: $*" >&2; exit 1; }

ensure_tools() {
    local voices=/usr/share/festival/voices missing=0
    for tool in festival sox soxi flac awk; do
        command -v "$tool" >/dev/null || missing=1
    done
    for v in english/kal_diphone english/ked_diphone us/cmu_us_slt_arctic_hts; do
        [ -d "$voices/$v" ] || missing=1
    done
    [ "$missing" = 0 ] && return
    [ "$(id -u)" = 0 ] || die "festival, its voices, sox or flac are missing; run as root to install them"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y festival festvox-kallpc16k \
        festvox-kdlpc16k festvox-us-slt-hts sox flac
}

# Sentences "<id> <text>" without comments.
sentences() { grep -v '^#' "$data/sentences.txt" | grep -v '^[[:space:]]*$'; }

# pick_sentences INDEX NSPEAKERS: sa1, sa2 and a window of SX_PER_SPEAKER
# consecutive sx sentences; windows of neighbouring speakers overlap, so each
# sx sentence is said by 3 or 4 speakers, men and women.
pick_sentences() {
    local idx=$1 nspk=$2
    sentences | awk -v idx="$idx" -v nspk="$nspk" -v want="$SX_PER_SPEAKER" '
        /^sa/ { print; next }
        { sx[nsx++] = $0 }
        END {
            first = int(idx * nsx / nspk) # windows spread evenly round the list
            for (k = 0; k < want; k++) print sx[(first + k) % nsx]
        }'
}

# Festival job for one speaker: select it, then one demo.say per sentence.
write_job() {
    local voice=$1 stretch=$2 cents=$3 work=$4 sents=$5 factor=1
    if [ "$voice" = cmu_us_slt_arctic_hts ]; then
        [ "$cents" = 0 ] || die "the HTS voice takes no pitch change; use warp"
    else
        factor=$(awk -v c="$cents" 'BEGIN { printf "%.6f", 2 ^ (c / 1200) }')
    fi
    echo "(demo.speaker 'voice_$voice $stretch $factor)"
    while read -r id text; do
        case $text in *\"* | *\\*) die "sentence $id: no \" or \\ please" ;; esac
        echo "(demo.say \"$work/$id\" \"$text\")"
    done <"$sents"
}

# Final h# at least MIN_END_S long: append copies of the sentence's own
# leading silence (audio the voice made, so its noise floor matches). Prints
# the file to use.
pad_end() {
    local wav=$1 seg=$2 plan head copies parts=()
    plan=$(awk -v min="$MIN_END_S" '
        $1 == "R" { rate = $2; n = $3 }
        $1 == "P" { np++; name[np] = $2; end[np] = $3 }
        END {
            need = int((min - (n / rate - end[np - 1])) * rate + 0.5)
            lead = int((end[1] - 0.02) * rate) # stay inside the leading pause
            if (name[1] != "pau" || name[np] != "pau" || need <= 0) { print 0, 0; exit }
            if (lead < rate / 100) { print "short", 0; exit }
            copies = int((need + lead - 1) / lead)
            printf "%d %d\n", int((need + copies - 1) / copies), copies
        }' "$seg")
    read -r head copies <<<"$plan"
    [ "$head" != short ] || die "$seg: no leading pause to pad the end with"
    if [ "$head" = 0 ]; then echo "$wav"; return; fi
    sox "$wav" "${wav%.wav}.head.wav" trim 0 "${head}s"
    for ((i = 0; i < copies; i++)); do parts+=("${wav%.wav}.head.wav"); done
    sox "$wav" "${parts[@]}" "${wav%.wav}.pad.wav"
    echo "${wav%.wav}.pad.wav"
}

# lag_samples WARP: LABEL_LAG_MS in output samples of a speaker with this warp
# (festival time x 1/warp). The warps in SPEAKERS keep 1000 x the exact ratio of
# output to festival length away from a rounding tie, so this equals the
# rounded lag at that ratio.
lag_samples() {
    awk -v ms="$LABEL_LAG_MS" -v r="$RATE" -v w="$1" 'BEGIN { printf "%d", ms * r / 1000 / w + 0.5 }'
}

# TIMIT labels from festival's times. Times (seconds on the festival wave) map
# to output samples through the ratio of the lengths, which covers resampling
# and sox speed; every boundary but the first and last is then moved LAG
# samples later (see LABEL_LAG_MS); the last boundary is the audio length
# exactly.
write_labels() {
    local seg=$1 in_len=$2 out_len=$3 base=$4 lag=$5
    awk -v in_len="$in_len" -v out_len="$out_len" -v phn="$base.phn" -v wrd="$base.wrd" \
        -v timit="$TIMIT61" -v seg="$seg" -v lag="$lag" '
        function fail(msg) { print seg ": " msg > "/dev/stderr"; exit 1 }
        function at(t) { return int(t * rate * out_len / in_len + 0.5) + lag }
        BEGIN { n = split(timit, v, /[ \n]+/); for (i = 1; i <= n; i++) ok[v[i]] = 1 }
        FILENAME != seg { if ($0 !~ /^#/ && NF >= 2) map[$1] = $2; next }
        $1 == "R" { rate = $2 }
        $1 == "P" { np++; ph[np] = $2; pend[np] = at($3) }
        $1 == "W" { nw++; word[nw] = $2; ws[nw] = at($3); we[nw] = at($4) }
        END {
            if (pend[np] - lag > out_len + 1) fail("segments run past the audio")
            pend[np] = out_len
            start = 0
            for (i = 1; i <= np; i++) {
                if (!(ph[i] in map)) fail("phone " ph[i] " is not in phones.map")
                lab = map[ph[i]]
                if (lab == "pau" && (i == 1 || i == np)) lab = "h#"
                if (!(lab in ok)) fail("label " lab " is not a TIMIT phone")
                if (pend[i] <= start) fail("empty segment " ph[i] " at sample " start)
                printf "%d %d %s\n", start, pend[i], lab > phn
                start = pend[i]
            }
            for (i = 1; i <= nw; i++) {
                if (we[i] <= ws[i]) fail("empty word " word[i])
                if (we[i] > out_len) fail("word " word[i] " ends past the audio")
                printf "%d %d %s\n", ws[i], we[i], word[i] > wrd
            }
        }' "$data/phones.map" "$seg"
}

# One utterance: pad, warp and resample with sox, encode, label.
finish_utt() {
    local work=$1 id=$2 dir=$3 warp=$4 voice=$5 text=$6
    local seg=$work/$id.seg wav in_len out_len effects=()
    if [ ! -s "$seg" ] || [ ! -s "$work/$id.wav" ]; then
        die "festival wrote no $id for $dir"
    fi
    wav=$(pad_end "$work/$id.wav" "$seg")
    in_len=$(soxi -s "$wav")
    [ "$warp" = 1.00 ] || effects+=(speed "$warp")
    # -D: no dither, so the bytes repeat; the voices carry their own noise floor.
    sox -D -V2 "$wav" -b 16 -c 1 -e signed-integer "$work/$id.out.wav" \
        "${effects[@]}" rate -v "$RATE" 2>"$work/$id.sox.log"
    if [ -s "$work/$id.sox.log" ]; then
        cat "$work/$id.sox.log" >&2
        die "sox complained about $dir/$id"
    fi
    out_len=$(soxi -s "$work/$id.out.wav")
    [ "$(soxi -r "$work/$id.out.wav")" = "$RATE" ] || die "$id: sox gave the wrong rate"
    flac -s --best --no-padding -f -o "$dir/$id.flac" "$work/$id.out.wav"
    write_labels "$seg" "$in_len" "$out_len" "$dir/$id" "$(lag_samples "$warp")"
    printf '0 %d %s\n' "$out_len" "$text" >"$dir/$id.txt"
}

make_speaker() {
    local idx=$1 nspk=$2 spk=$3 voice=$4 stretch=$5 cents=$6 warp=$7 tmp=$8
    local work=$tmp/work/$spk dir=$tmp/demo/$spk
    mkdir -p "$work" "$dir"
    pick_sentences "$idx" "$nspk" >"$work/sentences"
    write_job "$voice" "$stretch" "$cents" "$work" "$work/sentences" >"$work/job.scm"
    festival -b "$data/synth.scm" "$work/job.scm" >"$work/festival.log" 2>&1 ||
        die "festival failed for $spk, see $work/festival.log"
    if grep -qiE 'error|warning|mismatch' "$work/festival.log"; then
        cat "$work/festival.log" >&2
        die "festival complained for $spk"
    fi
    while read -r id text; do
        finish_utt "$work" "$id" "$dir" "$warp" "$voice" "$text"
    done <"$work/sentences"
    echo "  $spk: $(wc -l <"$work/sentences") utterances"
}

write_readme() {
    local out=$1 nspk nutt minutes mbytes
    nspk=$(echo "$SPEAKERS" | wc -l)
    nutt=$(find "$out" -name '*.flac' | wc -l)
    minutes=$(find "$out" -name '*.txt' -exec cat {} + |
        awk -v r="$RATE" '{ s += $2 } END { printf "%.1f", s / r / 60 }')
    mbytes=$(find "$out" -name '*.flac' -exec cat {} + | wc -c |
        awk '{ printf "%.1f", $1 / 1e6 }')
    cat <<EOF
# asrpipe demo corpus (synthetic speech)

This folder is a **synthetic** speech corpus for trying asrpipe without TIMIT.
Every sentence was spoken by a speech synthesiser, not by a person, so results
on it say how the tool behaves, not how well a recogniser hears people. Use
TIMIT or another real corpus for findings.

It has $nspk pseudo-speakers, $nutt utterances, $minutes minutes of audio and
$mbytes MB of FLAC, in TIMIT's layout: one folder per speaker,
\`<dialect>-<gender><name><digit>/\`, and per utterance \`<utt>.flac\`
(16 kHz, mono, 16-bit), \`<utt>.phn\` and \`<utt>.wrd\` (\`start end label\` in
samples, TIMIT labels) and \`<utt>.txt\` (\`0 <samples> <sentence>\`). The
phones of an utterance are contiguous from sample 0 to its last sample.

## How it was made

\`scripts/make-demo-corpus.sh\` makes all of it (run it again to rebuild; a
rebuild gives the same bytes). It uses Debian's festival with three voices:

| voice | package | speaker |
| --- | --- | --- |
| kal_diphone | festvox-kallpc16k | male, American English (diphone) |
| ked_diphone | festvox-kdlpc16k | male, American English (diphone) |
| cmu_us_slt_arctic_hts | festvox-us-slt-hts | female, American English (HMM, 32 kHz, resampled) |

The phone boundaries are the segment end times festival used to build the
waveform, not an alignment made afterwards, moved ${LABEL_LAG_MS} ms later:
festival's times lead its audio. At boundaries with a sharp energy step
(vowel to voiceless stop closure, voiceless fricative to vowel) the audio's
steepest step comes a median 13 ms after festival's time, where the same
measure on TIMIT's hand labels finds 0 ms. Within that, the boundaries hold
up to the granularity of the synthesis (a pitch period, a few ms, for the
diphone voices; 5 ms frames for the HMM voice). Word boundaries are the first
and last phone of each word. Sample positions are scaled by the ratio of
output to festival length where the audio was resampled or warped, and the
last boundary is the file length. The diphone voices run 20-30 ms past their
last segment; that tail belongs to the final h#.

A pseudo-speaker is a voice with a duration stretch (festival's
Duration_Stretch, or the HMM voice's speed), a pitch change (diphone voices
only: festival scales their F0 targets; the HMM voice predicts its own F0) and
a warp (\`sox speed\`: formants and pitch times warp, durations divided by
it, a crude change of vocal-tract length; pure resampling, so the times scale
exactly). The diphone voices are rebuilt at half amplitude inside festival:
at full level their LPC filter overflows 16 bits in loud vowels (ked_diphone
wraps around into clicks, kal_diphone saturates). The HMM voice ends sentences almost without silence,
so where the final pause is shorter than ${MIN_END_S} s, copies of the
sentence's own leading silence are appended to it. The dialect regions in the
names are labels only: one man and one woman per region, as in the TIMIT
sample.

Sentences: sa1 and sa2 (TIMIT's two dialect sentences) are said by every
speaker; sx1 to sx70 are the Harvard sentences, lists 1 to 7 (IEEE
Recommended Practice for Speech Quality Measurements, 1969; public domain),
each said by 3 or 4 speakers. The list is \`scripts/demo-corpus/sentences.txt\`.

## Speakers

\`speakers.tsv\` lists them: stretch multiplies durations, pitch is in cents,
warp as above.

| id | gender | voice | stretch | pitch (cents) | warp |
| --- | --- | --- | --- | --- | --- |
$(echo "$SPEAKERS" | awk '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $3, $2, $4, $5, $6 }')

## Phones

Festival's US voices use the "radio" phone set, ARPAbet like TIMIT's, so
\`scripts/demo-corpus/phones.map\` keeps each speech phone's name. A pause
at the start or end of an utterance is labelled h#, one in the middle pau.
Festival does not split stops into closure and release, so the corpus has no
bcl, dcl, gcl, pcl, tcl, kcl (a stop's label covers closure and burst); nor
does it produce flaps (dx, nx), syllabic consonants (el, em, en), ix, ux, axr,
hv, q or epi. ked_diphone splits each er into er + r for its own diphone
lookup; that r is merged back into the er. Phones used:

$(find "$out" -name '*.phn' -exec cat {} + | awk '{ c[$3]++ } END { for (p in c) print p, c[p] }' |
        sort | awk '{ printf "%s%s (%d)", sep, $1, $2; sep = ", " } END { print "" }')

## Licences

The audio is output of the three voices, which are free software: their
Debian copyright files, copied into \`VOICES-COPYRIGHT.txt\` here, allow use,
copying, modification and distribution provided the copyright notices,
conditions and disclaimers are kept, modifications are marked as such, the
authors' names are not deleted, and (for the diphone voices) the authors'
names are not used to endorse derived products.

- kal_diphone: Copyright (c) 1998 Alan W Black and Kevin Lenzo.
- ked_diphone: Copyright (c) 1997 Centre for Speech Technology Research,
  University of Edinburgh.
- cmu_us_slt_arctic_hts: Copyright 2003 Carnegie Mellon University; parts
  1998-2000 Carnegie Mellon University, Alan W Black, Kevin Lenzo; 2002 Nagoya
  Institute of Technology; HTS files BSD-3-clause.
- Pronunciations and part-of-speech model: festlex-cmu (from CMUDICT 0.4)
  and festlex-poslex, Copyright CSTR, University of Edinburgh, same terms.

Modifications: the HMM voice's audio was resampled from 32 to 16 kHz, the
diphone voices' level halved, durations and F0 targets changed through festival's
parameters and, for some speakers, the speed changed with \`sox speed\`, as
described above. The authors of the voices do not endorse asrpipe.

The Harvard sentences are public domain. Of TIMIT only the text of its two sa
prompts is used, so that the demo mirrors TIMIT's design; no TIMIT audio or
labels are in this corpus.
EOF
}

# relabel OLD_LAG_MS: move every boundary of the labels in $dest (made with a
# lag of OLD_LAG_MS) to LABEL_LAG_MS; the first start and the last end stay,
# the audio is not touched. Then rewrite the corpus README.
relabel() {
    local old=$1 spk warp delta f n=0
    [[ "$old" =~ ^[0-9]+$ ]] || die "--relabel takes the old lag in whole ms, not '$old'"
    [ -f "$dest/speakers.tsv" ] || die "no corpus at $dest"
    while read -r spk warp; do
        delta=$(($(lag_samples "$warp") - $(LABEL_LAG_MS=$old lag_samples "$warp")))
        for f in "$dest/$spk"/*.phn; do
            awk -v d="$delta" -v f="$f" '
                function fail(msg) { print f ": " msg > "/dev/stderr"; exit 1 }
                { n++; s[n] = $1; e[n] = $2; l[n] = $3 }
                END {
                    for (i = 1; i <= n; i++) {
                        if (i > 1) s[i] += d
                        if (i < n) e[i] += d
                        if (e[i] <= s[i]) fail("empty segment " l[i] " after the move")
                        printf "%d %d %s\n", s[i], e[i], l[i]
                    }
                }' "$f" >"$f.new"
            awk -v d="$delta" -v end="$(awk 'END { print $2 }' "$f.new")" -v f="${f%.phn}.wrd" '
                { $1 += d; $2 += d; if ($1 < 0 || $2 > end) { print f ": word " $3 " outside the audio" > "/dev/stderr"; exit 1 }
                  print }' "${f%.phn}.wrd" >"${f%.phn}.wrd.new"
            mv "$f.new" "$f"
            mv "${f%.phn}.wrd.new" "${f%.phn}.wrd"
            n=$((n + 1))
        done
    done < <(awk -F '\t' 'NR > 1 { print $1, $6 }' "$dest/speakers.tsv")
    write_readme "$dest" >"$dest/README.md.new"
    mv "$dest/README.md.new" "$dest/README.md"
    echo "moved the boundaries of $n utterances from a lag of $old ms to $LABEL_LAG_MS ms"
}

main() {
    if [ "${1:-}" = --relabel ]; then
        [ $# = 2 ] || die "usage: $0 --relabel OLD_LAG_MS"
        relabel "$2"
        return
    fi
    ensure_tools
    mkdir -p "$(dirname "$dest")"
    local nspk idx=0
    tmp=$(mktemp -d "$(dirname "$dest")/.demo-build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    nspk=$(echo "$SPEAKERS" | wc -l)
    echo "building the demo corpus in $tmp"
    while read -r spk voice gender stretch cents warp; do
        case $spk in "$gender"*) ;; *-"$gender"*) ;; *) die "$spk: gender $gender" ;; esac
        make_speaker "$idx" "$nspk" "$spk" "$voice" "$stretch" "$cents" "$warp" "$tmp"
        idx=$((idx + 1))
    done <<<"$SPEAKERS"
    {
        printf 'id\tgender\tvoice\tstretch\tpitch_cents\twarp\n'
        echo "$SPEAKERS" | awk '{ printf "%s\t%s\t%s\t%s\t%s\t%s\n", $1, $3, $2, $4, $5, $6 }'
    } >"$tmp/demo/speakers.tsv"
    write_readme "$tmp/demo" >"$tmp/demo/README.md"
    for pkg in festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festlex-cmu festlex-poslex; do
        printf '==== %s: /usr/share/doc/%s/copyright ====\n\n' "$pkg" "$pkg"
        cat "/usr/share/doc/$pkg/copyright"
        printf '\n'
    done >"$tmp/demo/VOICES-COPYRIGHT.txt"
    # Swap in the new corpus; the old one is removed only once the new is there.
    if [ -e "$dest" ]; then mv "$dest" "$tmp/old"; fi
    mv "$tmp/demo" "$dest"
    echo "wrote $dest ($(du -sb "$dest" | awk '{ printf "%.1f MB", $1 / 1e6 }'))"
}

main "$@"
