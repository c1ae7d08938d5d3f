"""asrpipe: the classic speech-recognition front end as composable stages, from Python.

Features (Kaldi MFCC / filter banks and every stage between), streaming features with
kaldi-native-fbank's online API, audio readers, aligned corpora and trained GMM/DNN models, all
computed by the asrpipe Rust library. Arrays are numpy; errors are ``ValueError`` (bad options
or data) and ``OSError`` (files that cannot be read) with the library's one-line messages.
"""

from ._asrpipe import Corpus, Model, OnlineFeatures, Pipeline, Utterance, read_audio

__all__ = ["Corpus", "Model", "OnlineFeatures", "Pipeline", "Utterance", "read_audio"]
