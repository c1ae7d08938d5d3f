//! The Python binding of asrpipe: numpy arrays in and out, the GIL released around work, the
//! library's errors as Python exceptions. Every computation is the Rust library's; this file only
//! converts arguments and results.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use asrpipe::audio::scale::{SampleScale, to_int16_scale};
use asrpipe::audio::{self, ReadOptions, Waveform};
use asrpipe::corpus::{self, PhoneSet, Utterance};
use asrpipe::frontend::StageKind;
use asrpipe::frontend::cmvn::{CmvnMode, CmvnStats};
use asrpipe::model::Classifier;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::pipeline::online;
use asrpipe::train::model_dir::Trained;
use ndarray::{Array2, ArrayView2};
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use rayon::prelude::*;

/// The library's error as a Python exception: `FileNotFoundError`/`OSError` for files that
/// cannot be read, `ValueError` for everything else (bad options, bad data, bad files' content).
fn py_err(e: asrpipe::Error) -> PyErr {
    let msg = e.to_string();
    match &e {
        asrpipe::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        asrpipe::Error::Io { .. } => PyOSError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

fn value_err(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

trait OrPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for asrpipe::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(py_err)
    }
}

fn parse_scale(scale: Option<&str>) -> PyResult<Option<SampleScale>> {
    scale.map(SampleScale::parse).transpose().py()
}

/// A 1-D int16 or float32 numpy array, borrowed read-only for the length of a call.
enum Borrowed<'py> {
    I16(PyReadonlyArray1<'py, i16>),
    F32(PyReadonlyArray1<'py, f32>),
}

/// Samples as the caller gave them: a view of the array's memory when it is contiguous, else a
/// copy. Plain slices, so they can cross to worker threads with the GIL released.
enum Samples<'a> {
    I16(Cow<'a, [i16]>),
    F32(Cow<'a, [f32]>),
}

/// Borrow `x` as samples, refusing other shapes and types (and `scale="unit"` on int16).
fn borrow_samples<'py>(
    x: &Bound<'py, PyAny>,
    scale: Option<SampleScale>,
) -> PyResult<Borrowed<'py>> {
    let arr = x.cast::<PyUntypedArray>().map_err(|_| {
        value_err(format!(
            "samples must be a 1-D numpy array of int16 or float32, got {}",
            x.get_type().name().map_or("?".into(), |n| n.to_string())
        ))
    })?;
    if arr.ndim() != 1 {
        return Err(value_err(format!(
            "samples must be a 1-D array (one channel), got shape ({})",
            arr.shape()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let readonly = |e: numpy::BorrowError| value_err(e.to_string());
    if let Ok(a) = x.cast::<PyArray1<i16>>() {
        if scale == Some(SampleScale::Unit) {
            return Err(value_err(
                "scale \"unit\" is for float samples; int16 samples are 16-bit scale already",
            ));
        }
        return Ok(Borrowed::I16(a.try_readonly().map_err(readonly)?));
    }
    if let Ok(a) = x.cast::<PyArray1<f32>>() {
        return Ok(Borrowed::F32(a.try_readonly().map_err(readonly)?));
    }
    Err(value_err(format!(
        "samples must be int16 or float32, got {} (convert with .astype(numpy.float32))",
        arr.dtype()
    )))
}

impl Borrowed<'_> {
    fn samples(&self) -> Samples<'_> {
        match self {
            Borrowed::I16(a) => Samples::I16(
                a.as_slice()
                    .map_or_else(|_| Cow::Owned(a.as_array().to_vec()), Cow::Borrowed),
            ),
            Borrowed::F32(a) => Samples::F32(
                a.as_slice()
                    .map_or_else(|_| Cow::Owned(a.as_array().to_vec()), Cow::Borrowed),
            ),
        }
    }
}

impl Samples<'_> {
    /// The samples as f32 at 16-bit scale (float samples checked against `scale`).
    fn to_f32(&self, scale: Option<SampleScale>) -> asrpipe::Result<Vec<f32>> {
        match self {
            Samples::I16(v) => Ok(v.iter().map(|&v| f32::from(v)).collect()),
            Samples::F32(v) => {
                let mut v = v.to_vec();
                to_int16_scale(&mut v, scale)?;
                Ok(v)
            }
        }
    }
}

/// `x` as f32 samples at 16-bit scale (see [`borrow_samples`]).
fn samples_of(x: &Bound<'_, PyAny>, scale: Option<SampleScale>) -> PyResult<Vec<f32>> {
    borrow_samples(x, scale)?.samples().to_f32(scale).py()
}

/// A 2-D float32 feature matrix (frames x dims) from numpy.
fn features_of<'py>(x: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, f32>> {
    match x.cast::<PyArray2<f32>>() {
        Ok(a) => a.try_readonly().map_err(|e| value_err(e.to_string())),
        Err(_) => Err(value_err(match x.cast::<PyUntypedArray>() {
            Ok(a) => format!(
                "features must be a 2-D float32 array (frames x dims), got {}-D {}",
                a.ndim(),
                a.dtype()
            ),
            Err(_) => "features must be a 2-D float32 numpy array (frames x dims)".to_string(),
        })),
    }
}

fn count(n: i64, what: &str) -> PyResult<usize> {
    usize::try_from(n).map_err(|_| value_err(format!("{what} must be >= 0, got {n}")))
}

/// A Python value as the JSON value the stage options deserialise from.
fn json_of(v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    if v.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = v.extract::<bool>() {
        Ok(Value::Bool(b))
    } else if let Ok(i) = v.extract::<i64>() {
        Ok(Value::from(i))
    } else if let Ok(f) = v.extract::<f64>() {
        Ok(Value::from(f))
    } else if let Ok(s) = v.extract::<String>() {
        Ok(Value::String(s))
    } else {
        Err(value_err(format!(
            "option values are bool, int, float or str, got {}",
            v.get_type().name()?
        )))
    }
}

/// A JSON value (stage options) as a Python object.
fn py_of<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any(),
            None => {
                // Stage options are f32: show 0.42, not the f64 value of the f32 nearest it.
                let x = n.as_f64().unwrap_or(f64::NAN);
                let short = if (x as f32) as f64 == x {
                    (x as f32).to_string().parse().unwrap_or(x)
                } else {
                    x
                };
                short.into_pyobject(py)?.into_any()
            }
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| py_of(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, py_of(py, x)?)?;
            }
            d.into_any()
        }
    })
}

fn options_of(options: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, serde_json::Value)>> {
    let Some(d) = options else {
        return Ok(Vec::new());
    };
    d.iter()
        .map(|(k, v)| Ok((k.extract::<String>()?, json_of(&v)?)))
        .collect()
}

/// A feature pipeline: the chain of stages (framing, DFT, spectrogram, mel filter bank, log,
/// DCT) and its post-processing (CMVN, deltas, splicing), as a YAML file describes it.
#[pyclass(frozen, module = "asrpipe", name = "Pipeline")]
struct PyPipeline {
    ex: Arc<Extractor>,
}

impl PyPipeline {
    fn new(p: &Pipeline) -> PyResult<Self> {
        Ok(PyPipeline {
            ex: Arc::new(Extractor::new(p).py()?),
        })
    }

    fn pipeline(&self) -> &Pipeline {
        &self.ex.pipeline
    }

    /// Samples at the pipeline's rate (resampled when the pipeline says `resample: true`).
    fn waveform(&self, samples: Vec<f32>, sample_rate: u32) -> asrpipe::Result<Waveform> {
        let wav = Waveform {
            samples,
            sample_rate,
        };
        audio::conform(Path::new("<samples>"), wav, &self.ex.read_options())
    }
}

#[pymethods]
impl PyPipeline {
    /// Load a pipeline from a YAML file (a path, or a str naming an existing file) or from YAML
    /// text (any other str; a one-line str ending in .yaml/.yml is taken as a missing file).
    #[staticmethod]
    fn from_yaml(source: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = source.extract::<String>().ok();
        let p = match text {
            Some(t) if !Path::new(&t).is_file() && !looks_like_path(&t) => {
                Pipeline::parse(&t, Path::new("<yaml>")).py()?
            }
            _ => Pipeline::load(&source.extract::<PathBuf>()?).py()?,
        };
        Self::new(&p)
    }

    /// Kaldi MFCC (13 coefficients, c0 = log energy), with stage options by name
    /// (`num_ceps=20`, `dither=1.0`, `snip_edges=False`, `sample_rate=8000`, ...).
    #[staticmethod]
    #[pyo3(signature = (**options))]
    fn kaldi_mfcc(options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let p = Pipeline::kaldi_mfcc();
        Self::new(&p.with_stage_options(&options_of(options)?).py()?)
    }

    /// Kaldi log mel filter bank (23 bins), with stage options by name (`num_bins=80`, ...).
    #[staticmethod]
    #[pyo3(signature = (**options))]
    fn kaldi_fbank(options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let p = Pipeline::kaldi_fbank();
        Self::new(&p.with_stage_options(&options_of(options)?).py()?)
    }

    /// A copy with stage options set by name; each goes to the last stage that has it.
    #[pyo3(signature = (**options))]
    fn with_options(&self, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Self::new(
            &self
                .pipeline()
                .with_stage_options(&options_of(options)?)
                .py()?,
        )
    }

    /// A copy of the chain ending after `stage` (waveform, dft, spectrogram, filterbank, log, dct
    /// or mfcc).
    fn until(&self, stage: &str) -> PyResult<Self> {
        let kind = StageKind::parse(stage).ok_or_else(|| {
            value_err(format!(
                "unknown stage `{stage}` (stages: waveform, dft, spectrogram, filterbank, log, \
                 dct or mfcc)"
            ))
        })?;
        Self::new(&self.pipeline().until(kind).py()?)
    }

    /// A copy without post-processing (what `OnlineFeatures` streams).
    fn without_post(&self) -> PyResult<Self> {
        Self::new(&self.pipeline().without_post())
    }

    /// The stages in order, each `(name, options)`.
    #[getter]
    fn stages<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        self.pipeline()
            .stages
            .iter()
            .map(|s| {
                let json = serde_json::to_value(s).map_err(|e| value_err(e.to_string()))?;
                let opts = json.as_object().and_then(|m| m.values().next()).cloned();
                Ok((
                    s.kind().name().to_string(),
                    py_of(py, &opts.unwrap_or_default())?,
                ))
            })
            .collect()
    }

    /// The post-processing steps (`cmvn: utterance`, `deltas: order 2`, ...); empty for none.
    #[getter]
    fn post(&self) -> Vec<String> {
        self.pipeline().post_steps()
    }

    /// Columns of the features `compute` returns (after post-processing).
    #[getter]
    fn dim(&self) -> usize {
        self.ex.dim()
    }

    /// The rate the pipeline is built for, in Hz.
    #[getter]
    fn sample_rate(&self) -> u32 {
        self.pipeline().sample_rate
    }

    /// The pipeline's name.
    #[getter]
    fn name(&self) -> String {
        self.pipeline().name.clone()
    }

    /// The stage the chain ends with.
    #[getter]
    fn output(&self) -> &'static str {
        self.ex.output_kind().name()
    }

    /// The pipeline as YAML (reads back with `from_yaml`).
    fn to_yaml(&self) -> String {
        self.pipeline().to_yaml()
    }

    /// Features of one utterance: float32 [frames, dim]. `samples`: a 1-D int16 array, or
    /// float32 in 16-bit scale (Kaldi's convention), or float32 in [-1, 1] with `scale="unit"`;
    /// float32 samples that all lie in [-1, 1] and are not whole numbers need an explicit scale.
    /// `name` seeds the dither as the CLI's file name or utterance id does.
    #[pyo3(signature = (samples, sample_rate, *, scale=None, name=""))]
    fn compute<'py>(
        &self,
        py: Python<'py>,
        samples: &Bound<'py, PyAny>,
        sample_rate: u32,
        scale: Option<&str>,
        name: &str,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let x = samples_of(samples, parse_scale(scale)?)?;
        let ex = &self.ex;
        let feats = py
            .detach(|| {
                let wav = self.waveform(x, sample_rate)?;
                let f = ex.chain(&wav, name)?;
                ex.post_one(f, ex.global_cmvn.as_ref())
            })
            .py()?;
        Ok(PyArray2::from_owned_array(py, feats))
    }

    /// Features of many utterances, in parallel over utterances with the GIL released. Options
    /// as `compute`; `names` seed the dither per utterance. CMVN statistics are pooled over a
    /// set this call defines: with `post.cmvn: speaker`, each speaker's utterances among those
    /// given (`speakers`, one per utterance: pass all of a speaker's utterances, as the CLI
    /// pools all of them in the corpus); with `global`, a model's stored statistics, else all
    /// the utterances given.
    #[pyo3(signature = (samples, sample_rate, *, scale=None, names=None, speakers=None))]
    fn compute_many<'py>(
        &self,
        py: Python<'py>,
        samples: Vec<Bound<'py, PyAny>>,
        sample_rate: u32,
        scale: Option<&str>,
        names: Option<Vec<String>>,
        speakers: Option<Vec<String>>,
    ) -> PyResult<Vec<Bound<'py, PyArray2<f32>>>> {
        let scale = parse_scale(scale)?;
        for (what, list) in [("names", &names), ("speakers", &speakers)] {
            if let Some(l) = list
                && l.len() != samples.len()
            {
                return Err(value_err(format!(
                    "{} {what} for {} utterances",
                    l.len(),
                    samples.len()
                )));
            }
        }
        // Borrowed here, converted by the workers: a copy of every input held at once would be
        // fresh memory from the kernel for each call, where one per worker is reused.
        let borrowed = samples
            .iter()
            .enumerate()
            .map(|(i, s)| borrow_samples(s, scale).map_err(|e| prefixed(py, e, i)))
            .collect::<PyResult<Vec<_>>>()?;
        let xs: Vec<Samples> = borrowed.iter().map(Borrowed::samples).collect();
        let ex = &self.ex;
        let feats = py
            .detach(|| {
                let chained = xs
                    .par_iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let name = names.as_ref().map_or("", |n| n[i].as_str());
                        x.to_f32(scale)
                            .and_then(|x| self.waveform(x, sample_rate))
                            .and_then(|w| ex.chain(&w, name))
                            .map_err(|e| asrpipe::Error::invalid(format!("utterance {i}: {e}")))
                    })
                    .collect::<asrpipe::Result<Vec<_>>>()?;
                let pooled = pool_in_call(ex, &chained, speakers.as_deref())?;
                ex.post(chained, pooled.as_deref())
            })
            .py()?;
        Ok(feats
            .into_iter()
            .map(|f| PyArray2::from_owned_array(py, f))
            .collect())
    }

    fn __repr__(&self) -> String {
        let kinds: Vec<&str> = self.pipeline().kinds().iter().map(|k| k.name()).collect();
        format!(
            "Pipeline({:?}: {} at {} Hz -> {} dims)",
            self.pipeline().name,
            kinds.join(" -> "),
            self.pipeline().sample_rate,
            self.ex.dim()
        )
    }
}

/// CMVN statistics of `compute_many`: per speaker over the call's utterances of that speaker, or
/// the global ones (a model's stored statistics, else all the call's utterances); `None` for the
/// modes that pool nothing.
fn pool_in_call(
    ex: &Extractor,
    feats: &[ndarray::Array2<f32>],
    speakers: Option<&[String]>,
) -> asrpipe::Result<Option<Vec<Option<CmvnStats>>>> {
    let keys: Vec<&str> = match (ex.pipeline.post.cmvn.mode, speakers) {
        (CmvnMode::None | CmvnMode::Utterance, _) => return Ok(None),
        (CmvnMode::Global, _) if ex.global_cmvn.is_some() => {
            return Ok(Some(vec![ex.global_cmvn.clone(); feats.len()]));
        }
        (CmvnMode::Global, _) => vec![""; feats.len()],
        (CmvnMode::Speaker, Some(s)) => s.iter().map(String::as_str).collect(),
        // post_one says what is missing.
        (CmvnMode::Speaker, None) => return Ok(None),
    };
    // Per utterance, then merged in the order given: the CLI's sums, bit for bit, when the
    // utterances are a speaker's in corpus order.
    let mut pools = std::collections::BTreeMap::<&str, CmvnStats>::new();
    for (x, k) in feats.iter().zip(&keys) {
        let mut one = CmvnStats::new(x.ncols());
        one.accumulate(x.view());
        pools
            .entry(k)
            .or_insert_with(|| CmvnStats::new(x.ncols()))
            .merge(&one);
    }
    Ok(Some(keys.iter().map(|k| Some(pools[k].clone())).collect()))
}

fn looks_like_path(s: &str) -> bool {
    !s.contains('\n') && (s.ends_with(".yaml") || s.ends_with(".yml"))
}

/// `e` with "utterance i: " in front of its message (same exception type).
fn prefixed(py: Python<'_>, e: PyErr, i: usize) -> PyErr {
    let msg = format!("utterance {i}: {}", e.value(py));
    if e.is_instance_of::<PyValueError>(py) {
        value_err(msg)
    } else {
        e
    }
}

/// Streaming features with kaldi-native-fbank's online API: `accept_waveform` chunks as they
/// arrive, read the frames that are ready, `input_finished` at the end. The frames equal
/// `Pipeline.compute`'s for any chunking. Pipelines with post-processing are refused (CMVN needs
/// the whole utterance); stream `pipeline.without_post()` and post-process yourself.
#[pyclass(module = "asrpipe", name = "OnlineFeatures")]
struct PyOnlineFeatures {
    inner: online::OnlineFeatures,
    scale: Option<SampleScale>,
}

#[pymethods]
impl PyOnlineFeatures {
    /// A stream through `pipeline`; `scale` applies to every float32 chunk (as in
    /// `Pipeline.compute`), `name` seeds the dither as `compute(name=...)` does.
    #[new]
    #[pyo3(signature = (pipeline, *, scale=None, name=""))]
    fn new(pipeline: &PyPipeline, scale: Option<&str>, name: &str) -> PyResult<Self> {
        let seed = pipeline.ex.utterance_seed(name);
        Ok(PyOnlineFeatures {
            inner: online::OnlineFeatures::new(pipeline.pipeline(), seed).py()?,
            scale: parse_scale(scale)?,
        })
    }

    /// Append a chunk (1-D int16 or float32) at `sample_rate`, which must be the pipeline's.
    fn accept_waveform(
        &mut self,
        py: Python<'_>,
        sample_rate: u32,
        waveform: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let x = samples_of(waveform, self.scale)?;
        let inner = &mut self.inner;
        py.detach(|| inner.accept_waveform(sample_rate, &x)).py()
    }

    /// No more audio: compute the last frames.
    fn input_finished(&mut self, py: Python<'_>) -> PyResult<()> {
        let inner = &mut self.inner;
        py.detach(|| inner.input_finished()).py()
    }

    /// Frames computed so far (popped ones included).
    #[getter]
    fn num_frames_ready(&self) -> usize {
        self.inner.num_frames_ready()
    }

    /// Columns of each frame.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// Frame shift in seconds.
    #[getter]
    fn frame_shift_in_seconds(&self) -> f64 {
        self.inner.frame_shift_secs()
    }

    /// Whether `frame` is the last one (only after `input_finished`).
    fn is_last_frame(&self, frame: i64) -> PyResult<bool> {
        Ok(self.inner.is_last_frame(count(frame, "frame")?))
    }

    /// One frame, float32 [dim].
    fn get_frame<'py>(&self, py: Python<'py>, frame: i64) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let f = self.inner.get_frames(count(frame, "frame")?, 1).py()?;
        Ok(PyArray1::from_owned_array(py, f.row(0).to_owned()))
    }

    /// Frames `start .. start + count`, float32 [count, dim].
    fn get_frames<'py>(
        &self,
        py: Python<'py>,
        start: i64,
        count_: i64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let f = self
            .inner
            .get_frames(count(start, "start")?, count(count_, "count")?)
            .py()?;
        Ok(PyArray2::from_owned_array(py, f.to_owned()))
    }

    /// Discard the oldest `n` frames still kept.
    fn pop(&mut self, n: i64) -> PyResult<()> {
        self.inner.pop(count(n, "n")?).py()
    }
}

/// Read an audio file (RIFF WAV, NIST SPHERE, FLAC): `(samples, sample_rate)`, samples float32 in
/// 16-bit scale. `channel`: a channel number, "mean", or None (the file must be mono).
#[pyfunction]
#[pyo3(signature = (path, *, channel=None))]
fn read_audio<'py>(
    py: Python<'py>,
    path: PathBuf,
    channel: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyArray1<f32>>, u32)> {
    let mut opts = ReadOptions::default();
    if let Some(c) = channel {
        let text = match c.extract::<i64>() {
            Ok(i) => i.to_string(),
            Err(_) => c.extract::<String>()?,
        };
        opts.channel = text.parse().map_err(|e: String| value_err(e))?;
    }
    let wav = py.detach(|| audio::read(&path, &opts)).py()?;
    Ok((PyArray1::from_vec(py, wav.samples), wav.sample_rate))
}

/// An aligned corpus (TIMIT in the LDC or NLTK layout, or a manifest): iterate its utterances,
/// or index them by id.
#[pyclass(frozen, module = "asrpipe", name = "Corpus")]
struct PyCorpus {
    corpus: Arc<corpus::Corpus>,
}

#[pymethods]
impl PyCorpus {
    /// Open the corpus at `path` (a directory or a manifest file).
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let c = py.detach(|| corpus::Corpus::open(&path)).py()?;
        Ok(PyCorpus {
            corpus: Arc::new(c),
        })
    }

    /// The corpus's root directory (or manifest).
    #[getter]
    fn root(&self) -> PathBuf {
        self.corpus.root.clone()
    }

    /// Speaker ids, sorted.
    #[getter]
    fn speakers(&self) -> Vec<String> {
        self.corpus
            .speakers()
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn __len__(&self) -> usize {
        self.corpus.utterances.len()
    }

    /// The utterances of a split (`train`, `dev`, `test`) as `asrpipe train`/`eval` use them.
    fn split(&self, name: &str) -> PyResult<Vec<PyUtterance>> {
        let split = corpus::Split::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| value_err(format!("unknown split `{name}` (train, dev, test)")))?;
        let c = &self.corpus;
        let utts = corpus::Splits::for_corpus(c).utterances(c, split, &Default::default());
        Ok(utts
            .into_iter()
            .map(|u| PyUtterance {
                corpus: c.clone(),
                index: c
                    .utterances
                    .iter()
                    .position(|v| std::ptr::eq(u, v))
                    .expect("a split's utterances are the corpus's"),
            })
            .collect())
    }

    /// The utterance at position `key` (int) or with id `key` (str).
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyUtterance> {
        let n = self.corpus.utterances.len();
        let index = match key.extract::<isize>() {
            Ok(i) => {
                let j = if i < 0 { i + n as isize } else { i };
                usize::try_from(j).ok().filter(|&j| j < n).ok_or_else(|| {
                    pyo3::exceptions::PyIndexError::new_err(format!("utterance {i} of {n}"))
                })?
            }
            Err(_) => {
                let id = key.extract::<String>()?;
                self.corpus
                    .utterances
                    .iter()
                    .position(|u| u.id == id)
                    .ok_or_else(|| {
                        pyo3::exceptions::PyKeyError::new_err(format!(
                            "{}: no utterance `{id}`",
                            self.corpus.root.display()
                        ))
                    })?
            }
        };
        Ok(PyUtterance {
            corpus: self.corpus.clone(),
            index,
        })
    }

    fn __iter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let items = (0..this.corpus.utterances.len())
            .map(|index| {
                Bound::new(
                    py,
                    PyUtterance {
                        corpus: this.corpus.clone(),
                        index,
                    },
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)?.try_iter().map(|i| i.into_any())
    }
}

/// One utterance of a corpus: its audio file and phone alignment.
#[pyclass(frozen, module = "asrpipe", name = "Utterance")]
struct PyUtterance {
    corpus: Arc<corpus::Corpus>,
    index: usize,
}

impl PyUtterance {
    fn utt(&self) -> &Utterance {
        &self.corpus.utterances[self.index]
    }
}

#[pymethods]
impl PyUtterance {
    /// Utterance id, e.g. `dr1-fvmh0/sa1`.
    #[getter]
    fn id(&self) -> String {
        self.utt().id.clone()
    }

    /// Speaker id.
    #[getter]
    fn speaker(&self) -> String {
        self.utt().speaker.clone()
    }

    /// Sentence id (shared by the speakers who read the same prompt).
    #[getter]
    fn sentence(&self) -> String {
        self.utt().sentence.clone()
    }

    /// Path of the audio file.
    #[getter]
    fn audio(&self) -> PathBuf {
        self.utt().audio.clone()
    }

    /// Rate the segment times are counted in, Hz.
    #[getter]
    fn sample_rate(&self) -> u32 {
        self.utt().sample_rate
    }

    /// Phone segments `(start, end, phone)` in samples at `sample_rate` (TIMIT's 61 phones).
    #[getter]
    fn phones(&self) -> Vec<(u64, u64, String)> {
        segments(&self.utt().phones)
    }

    /// Word segments `(start, end, word)`.
    #[getter]
    fn words(&self) -> Vec<(u64, u64, String)> {
        segments(&self.utt().words)
    }

    /// The transcript, when the corpus has one.
    #[getter]
    fn text(&self) -> Option<String> {
        self.utt().text.clone()
    }

    /// The audio as `pipeline` reads it (its rate and channel): float32 in 16-bit scale.
    fn read_audio<'py>(
        &self,
        py: Python<'py>,
        pipeline: &PyPipeline,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let wav = py.detach(|| pipeline.ex.read_utterance(self.utt())).py()?;
        Ok(PyArray1::from_vec(py, wav.samples))
    }

    /// Frame labels for `pipeline`'s frames: a dict of lists, one entry per frame, `None` where a
    /// frame has no label: `phone61`, `phone48`, `phone39`, `state` (0/1/2: begin, middle, end).
    fn labels<'py>(&self, py: Python<'py>, pipeline: &PyPipeline) -> PyResult<Bound<'py, PyDict>> {
        let ex = &pipeline.ex;
        let table = py
            .detach(|| {
                let wav = ex.read_utterance(self.utt())?;
                corpus::utterance_labels(
                    self.utt(),
                    wav.samples.len() as u64,
                    &ex.frontend.framing.geometry,
                    wav.sample_rate,
                    PhoneSet::timit(),
                )
            })
            .py()?;
        let d = PyDict::new(py);
        let rows = &table.rows;
        d.set_item(
            "phone61",
            rows.iter().map(|r| r.phone61.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "phone48",
            rows.iter().map(|r| r.phone48.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "phone39",
            rows.iter().map(|r| r.phone39.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item("state", rows.iter().map(|r| r.state).collect::<Vec<_>>())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let u = self.utt();
        format!(
            "Utterance({:?}, speaker={:?}, {} phones)",
            u.id,
            u.speaker,
            u.phones.len()
        )
    }
}

fn segments(s: &[corpus::Segment]) -> Vec<(u64, u64, String)> {
    s.iter()
        .map(|s| (s.start, s.end, s.label.clone()))
        .collect()
}

/// A trained model directory (`asrpipe train` output): the classifier, the pipeline it reads
/// and its tied states.
#[pyclass(frozen, module = "asrpipe", name = "Model")]
struct PyModel {
    trained: Arc<Trained>,
}

impl PyModel {
    fn classifier(&self) -> &dyn Classifier {
        self.trained.model.classifier()
    }

    fn scores(&self, features: ArrayView2<'_, f32>) -> asrpipe::Result<Array2<f32>> {
        self.classifier().log_scores(features)
    }
}

#[pymethods]
impl PyModel {
    /// Load a model directory, checking that its parts fit together.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let t = py.detach(|| Trained::load(&path)).py()?;
        Ok(PyModel {
            trained: Arc::new(t),
        })
    }

    /// The pipeline the model reads (cut where the classifier starts, post-processing included).
    #[getter]
    fn pipeline(&self) -> PyResult<PyPipeline> {
        // With the model's stored global CMVN statistics, where its pipeline uses them.
        Ok(PyPipeline {
            ex: Arc::new(self.trained.extractor().py()?),
        })
    }

    /// `gmm` or `dnn`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.trained.model.kind().name()
    }

    /// Number of tied states (columns of `log_scores`).
    #[getter]
    fn num_states(&self) -> usize {
        self.classifier().num_classes()
    }

    /// Feature columns the model reads.
    #[getter]
    fn input_dim(&self) -> usize {
        self.classifier().input_dim()
    }

    /// Number of learned parameters.
    #[getter]
    fn num_params(&self) -> usize {
        self.classifier().num_params()
    }

    /// Log scores per frame and tied state, float32 [frames, states]: GMM log-likelihoods, DNN
    /// log posteriors; what `asrpipe eval` takes the argmax of.
    fn log_scores<'py>(
        &self,
        py: Python<'py>,
        features: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let f = features_of(features)?;
        let x = f.as_array();
        let s = py.detach(|| self.scores(x)).py()?;
        Ok(PyArray2::from_owned_array(py, s))
    }

    /// State posteriors per frame, float32 [frames, states]: the softmax of `log_scores` over
    /// states (for a GMM, with equal state priors).
    fn posteriors<'py>(
        &self,
        py: Python<'py>,
        features: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let f = features_of(features)?;
        let x = f.as_array();
        let mut s = py.detach(|| self.scores(x)).py()?;
        for mut row in s.rows_mut() {
            let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            row.mapv_inplace(|v| (v - max).exp());
            let sum = row.sum();
            row.mapv_inplace(|v| v / sum);
        }
        Ok(PyArray2::from_owned_array(py, s))
    }

    /// The tied state of each of `utterance`'s frames as the model's pipeline frames it, int64
    /// [frames]; -1 for frames without a label or with a phone state the tying does not know.
    /// `argmax(log_scores) == targets` over the labelled frames is `asrpipe eval`'s state accuracy.
    fn targets<'py>(
        &self,
        py: Python<'py>,
        utterance: &PyUtterance,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let t = &self.trained;
        let states = py
            .detach(|| -> asrpipe::Result<Vec<Option<u32>>> {
                let ex = t.extractor()?;
                let wav = ex.read_utterance(utterance.utt())?;
                let labels = corpus::frame_labels_at(
                    utterance.utt(),
                    wav.samples.len() as u64,
                    &ex.frontend.framing.geometry,
                    wav.sample_rate,
                    PhoneSet::timit(),
                )?;
                Ok(t.targets.frame_targets(&labels.frames))
            })
            .py()?;
        let v: Vec<i64> = states.iter().map(|s| s.map_or(-1, i64::from)).collect();
        Ok(PyArray1::from_vec(py, v))
    }

    /// Activations of a DNN at `layer` (0 = its normalised, spliced input; 1..=L = hidden layer
    /// outputs), float32 [frames, width].
    fn activations<'py>(
        &self,
        py: Python<'py>,
        features: &Bound<'py, PyAny>,
        layer: i64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let layer = count(layer, "layer")?;
        let f = features_of(features)?;
        let x = f.as_array();
        let dnn = self.trained.model.dnn("activations").py()?;
        let a = py.detach(|| dnn.activations(x, layer)).py()?;
        Ok(PyArray2::from_owned_array(py, a))
    }

    fn __repr__(&self) -> String {
        format!(
            "Model({}, {} states, reads {} dims of {:?})",
            self.trained.model.kind().name(),
            self.classifier().num_classes(),
            self.classifier().input_dim(),
            self.trained.pipeline.name
        )
    }
}

/// asrpipe's native module; the package `asrpipe` re-exports it.
#[pymodule]
fn _asrpipe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPipeline>()?;
    m.add_class::<PyOnlineFeatures>()?;
    m.add_class::<PyCorpus>()?;
    m.add_class::<PyUtterance>()?;
    m.add_class::<PyModel>()?;
    m.add_function(wrap_pyfunction!(read_audio, m)?)?;
    Ok(())
}
