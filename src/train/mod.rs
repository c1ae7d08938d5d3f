//! From a corpus and a pipeline to trained, scored models.

pub mod dataset;
pub mod eval;
pub mod run;
pub mod targets;
