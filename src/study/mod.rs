//! Experiments over many runs, the analyses of trained networks, and the reports.

pub mod analysis;
pub mod experiment;
pub mod report;
