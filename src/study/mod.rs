//! Experiments over many runs, the analyses of trained networks, and the reports.

pub mod analyses;
pub mod claims;
pub mod experiment;
pub mod filters;
pub mod hidden;
pub mod report;
pub mod seeds;
pub mod vowels;
