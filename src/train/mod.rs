//! From a corpus and a pipeline to trained, scored models.

pub mod align;
pub mod cmvn;
pub mod dataset;
pub mod decode;
pub mod env;
pub mod eval;
pub mod flat_start;
pub mod hmm;
pub mod labelled;
pub mod model_dir;
pub mod precomputed;
pub mod provenance;
pub mod realign;
pub mod recipe;
pub mod results;
pub mod run;
pub mod sat;
pub mod subset;
pub mod targets;

pub use env::{Env, Observer, Quiet};
pub use model_dir::{About, Model, Trained};
pub use results::{RunResult, table, write_run};
pub use run::{Scored, classifier_pipeline, evaluate, score, train, train_on};
