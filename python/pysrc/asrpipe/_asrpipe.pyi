"""Type stubs of asrpipe's native module (the package ``asrpipe`` re-exports everything)."""

import os
from typing import Any, Iterator, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

Samples = Union[npt.NDArray[np.int16], npt.NDArray[np.float32]]
Features = npt.NDArray[np.float32]
Scale = Optional[Literal["int16", "unit"]]
OptionValue = Union[bool, int, float, str]

class Pipeline:
    """A feature pipeline: the chain of stages and its post-processing, as a YAML file says."""

    @staticmethod
    def from_yaml(source: Union[str, os.PathLike[str]]) -> Pipeline:
        """Load from a YAML file (a path, or a str naming an existing file) or from YAML text."""
    @staticmethod
    def kaldi_mfcc(**options: OptionValue) -> Pipeline:
        """Kaldi MFCC (13 coefficients, c0 = log energy), stage options by name."""
    @staticmethod
    def kaldi_fbank(**options: OptionValue) -> Pipeline:
        """Kaldi log mel filter bank (23 bins), stage options by name."""
    def with_options(self, **options: OptionValue) -> Pipeline:
        """A copy with stage options set; each goes to the last stage that has it."""
    def until(self, stage: str) -> Pipeline:
        """A copy of the chain ending after `stage` (waveform, dft, spectrogram, filterbank, log, dct/mfcc)."""
    def without_post(self) -> Pipeline:
        """A copy without post-processing (CMVN, deltas, splicing)."""
    @property
    def stages(self) -> list[tuple[str, dict[str, Any]]]:
        """The stages in order, each (name, options)."""
    @property
    def post(self) -> list[str]:
        """The post-processing steps, e.g. ['cmvn: speaker', 'deltas: order 2']."""
    @property
    def dim(self) -> int:
        """Columns of the features `compute` returns."""
    @property
    def sample_rate(self) -> int:
        """The rate the pipeline is built for, Hz."""
    @property
    def name(self) -> str: ...
    @property
    def output(self) -> str:
        """The stage the chain ends with."""
    def to_yaml(self) -> str: ...
    def compute(
        self, samples: Samples, sample_rate: int, *, scale: Scale = None, name: str = ""
    ) -> Features:
        """Features of one utterance, float32 [frames, dim]; int16, or float32 in 16-bit scale
        (or in [-1, 1] with scale="unit")."""
    def compute_many(
        self,
        samples: Sequence[Samples],
        sample_rate: int,
        *,
        scale: Scale = None,
        names: Optional[Sequence[str]] = None,
        speakers: Optional[Sequence[str]] = None,
    ) -> list[Features]:
        """Features of many utterances, in parallel with the GIL released."""

class OnlineFeatures:
    """Streaming features (kaldi-native-fbank's online API), equal to `Pipeline.compute`."""

    def __init__(self, pipeline: Pipeline, *, scale: Scale = None, name: str = "") -> None: ...
    def accept_waveform(self, sample_rate: int, waveform: Samples) -> None:
        """Append a chunk of samples at the pipeline's rate."""
    def input_finished(self) -> None:
        """No more audio: compute the last frames."""
    @property
    def num_frames_ready(self) -> int:
        """Frames computed so far (popped ones included)."""
    @property
    def dim(self) -> int: ...
    @property
    def frame_shift_in_seconds(self) -> float: ...
    def is_last_frame(self, frame: int) -> bool: ...
    def get_frame(self, frame: int) -> npt.NDArray[np.float32]:
        """One frame, float32 [dim]."""
    def get_frames(self, start: int, count: int) -> Features:
        """Frames start .. start + count, float32 [count, dim]."""
    def pop(self, n: int) -> None:
        """Discard the oldest n frames still kept."""

def read_audio(
    path: Union[str, os.PathLike[str]], *, channel: Union[int, str, None] = None
) -> tuple[npt.NDArray[np.float32], int]:
    """Read WAV, NIST SPHERE or FLAC: (samples float32 in 16-bit scale, sample rate)."""

class Utterance:
    """One utterance of a corpus: audio file and phone alignment."""

    @property
    def id(self) -> str: ...
    @property
    def speaker(self) -> str: ...
    @property
    def sentence(self) -> str: ...
    @property
    def audio(self) -> os.PathLike[str]: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def phones(self) -> list[tuple[int, int, str]]:
        """(start, end, phone) in samples at `sample_rate`."""
    @property
    def words(self) -> list[tuple[int, int, str]]: ...
    @property
    def text(self) -> Optional[str]: ...
    def read_audio(self, pipeline: Pipeline) -> npt.NDArray[np.float32]:
        """The audio at the pipeline's rate and channel, 16-bit scale."""
    def labels(self, pipeline: Pipeline) -> dict[str, list[Any]]:
        """Per-frame labels for the pipeline's frames: phone61, phone48, phone39, state."""

class Corpus:
    """An aligned corpus (TIMIT, the NLTK sample, or a manifest)."""

    def __init__(self, path: Union[str, os.PathLike[str]]) -> None: ...
    @property
    def root(self) -> os.PathLike[str]: ...
    @property
    def speakers(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def split(self, name: Literal["train", "dev", "test"]) -> list[Utterance]:
        """The utterances of a split as `asrpipe train`/`eval` use them."""
    def __getitem__(self, key: Union[int, str]) -> Utterance: ...
    def __iter__(self) -> Iterator[Utterance]: ...

class Model:
    """A trained model directory (`asrpipe train` output)."""

    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> Model: ...
    @property
    def pipeline(self) -> Pipeline:
        """The pipeline the model reads (post-processing included)."""
    @property
    def kind(self) -> Literal["gmm", "dnn"]: ...
    @property
    def num_states(self) -> int: ...
    @property
    def input_dim(self) -> int: ...
    @property
    def num_params(self) -> int: ...
    def log_scores(self, features: Features) -> Features:
        """Log scores per frame and tied state (GMM log-likelihoods, DNN log posteriors)."""
    def posteriors(self, features: Features) -> Features:
        """Softmax of `log_scores` over states."""
    def targets(self, utterance: Utterance) -> npt.NDArray[np.int64]:
        """Tied state of each frame (-1: none); eval's state accuracy compares argmax(log_scores) with it."""
    def activations(self, features: Features, layer: int) -> Features:
        """DNN activations at `layer` (0 = input, 1..L = hidden layers)."""
