;;; Festival side of scripts/make-demo-corpus.sh.
;;;
;;; (demo.speaker VOICE STRETCH PITCH) selects a voice and a pseudo-speaker;
;;; (demo.say BASE TEXT) synthesises TEXT into BASE.wav (the voice's own rate)
;;; and writes BASE.seg with the segment and word times festival used to
;;; build that wave, so the phone boundaries are exact, not re-aligned:
;;;   R <sample_rate> <num_samples>
;;;   P <phone> <end_seconds>                 one per segment, in order
;;;   W <word> <start_seconds> <end_seconds>  one per word that has segments

(defvar demo.hts nil)

(define (demo.speaker voice stretch pitch)
  "(demo.speaker VOICE STRETCH PITCH)
Select VOICE (a symbol such as voice_kal_diphone), multiply its durations by
STRETCH and, for diphone voices, its F0 targets by PITCH. The HTS voice
predicts its own durations and F0: STRETCH becomes its speed option and PITCH
must be 1 (its pseudo-speakers differ by the script's warp instead)."
  (eval (list voice))
  (set! demo.hts (string-equal (Parameter.get 'Synth_Method) "HTS"))
  (if demo.hts
      (begin
        (if (not (equal? pitch 1))
            (error "demo.speaker: the HTS voice takes no F0 factor" pitch))
        ;; hts_engine reads its speed ("-r", above 1 is faster) from here.
        (set! hts_engine_params
              (append hts_engine_params (list (list "-r" (/ 1 stretch))))))
      (begin
        ;; The voice sets its own Duration_Stretch (1.1 for kal and ked):
        ;; scale it, so 1 keeps the voice as its authors tuned it.
        (Parameter.set 'Duration_Stretch
                       (* stretch (Parameter.get 'Duration_Stretch)))
        ;; Scale mean and spread together, as a higher voice has both.
        (set! int_lr_params
              (mapcar
               (lambda (p)
                 (if (member_string (car p) '(target_f0_mean target_f0_std))
                     (list (car p) (* pitch (cadr p)))
                     p))
               int_lr_params)))))

(define (demo.inserted? seg)
  "(demo.inserted? SEG)
True for a segment that a voice added during synthesis outside any syllable
and that is not a pause. ked_diphone splits every er into er + r (its
diphone database has er-r units); that r is not a phone of the word."
  (and (not (string-equal (item.name seg) "pau"))
       (not (item.relation seg 'SylStructure))))

(define (demo.segments utt)
  "(demo.segments UTT)
List of (name end) for the segments of UTT, an inserted segment's time given
back to the phone before it."
  (let ((out nil))
    (mapcar
     (lambda (seg)
       (if (and out (demo.inserted? seg))
           (set-car! (cdr (car out)) (item.feat seg "end"))
           (set! out (cons (list (item.name seg) (item.feat seg "end")) out))))
     (utt.relation.items utt 'Segment))
    (reverse out)))

(define (demo.word_span word)
  "(demo.word_span WORD)
Start and end time of WORD from its first and last segment, or nil when the
word has no segments. An inserted segment after the word's last phone
belongs to the word: it is in the Segment relation only, not in SylStructure."
  (let ((ws (item.relation word 'SylStructure)))
    (if (and ws (item.daughter1 ws) (item.daughter1 (item.daughter1 ws)))
        (let ((last (item.daughtern (item.daughtern ws))))
          (list (item.feat (item.daughter1 (item.daughter1 ws)) "segment_start")
                (let ((next (item.relation.next last 'Segment)))
                  (if (and next (demo.inserted? next))
                      (item.feat next "end")
                      (item.feat last "end")))))
        nil)))

(define (demo.unisyn_half utt)
  "(demo.unisyn_half UTT)
Rebuild the wave of a diphone (UniSyn) utterance at half amplitude. UniSyn's
LPC filter stores each output sample as a 16-bit integer without a range
check: loud vowels of ked_diphone overflow and wrap around to the opposite
sign (clicks), and kal_diphone's after-synthesis gain of 2.6 saturates.
Halving the residual frames before filtering keeps both in range; the pitch
marks, and so the segment times, are unchanged."
  (let ((sc (utt.relation.first utt 'SourceCoef))
        (i 0))
    (while (< i (track.num_frames (item.feat sc "coefs")))
      (wave.rescale (wavevector.getwave (item.feat sc "frame") i) 0.5)
      (set! i (+ i 1)))
    (us_generate_wave utt (Parameter.get 'us_sigpr) 'analysis_period)
    (apply_hooks after_synth_hooks utt)
    utt))

(define (demo.say base text)
  "(demo.say BASE TEXT)
Synthesise TEXT to BASE.wav and write its segment and word times to BASE.seg."
  ;; Utterance does not evaluate its arguments, hence the eval.
  (let ((utt (utt.synth (eval (list 'Utterance 'Text text))))
        (fd (fopen (string-append base ".seg") "w")))
    (if (string-equal (Parameter.get 'Synth_Method) "UniSyn")
        (demo.unisyn_half utt))
    (utt.save.wave utt (string-append base ".wav") 'riff)
    (let ((info (wave.info (utt.wave utt))))
      (format fd "R %d %d\n"
              (cadr (assoc 'sample_rate info))
              (cadr (assoc 'num_samples info))))
    (mapcar
     (lambda (seg) (format fd "P %s %.7f\n" (car seg) (cadr seg)))
     (demo.segments utt))
    (mapcar
     (lambda (word)
       (let ((span (demo.word_span word)))
         (if span
             (format fd "W %s %.7f %.7f\n"
                     (downcase (item.name word)) (car span) (cadr span)))))
     (utt.relation.items utt 'Word))
    (fclose fd)
    t))
