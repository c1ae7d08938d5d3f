//! Files in and out: atomic writes, JSON, safetensors, the feature cache, feature export
//! formats and Kaldi script files. Nothing here knows about speech; every layer above writes through it.

pub mod atomic;
pub mod cache;
pub mod export;
pub mod json;
pub mod lock;
pub mod scp;
pub mod tensors;
pub mod yaml;

pub use json::{read_json, write_json};
pub use tensors::{read_tensors, take, take_finite, write_tensors};
