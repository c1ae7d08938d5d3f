//! (in progress)
use crate::audio::Waveform;
use crate::error::Result;
use super::Frames;

#[derive(Debug)]
pub struct Framing;
impl Framing {
    pub fn dim(&self) -> usize { unimplemented!() }
    pub fn process(&self, _wav: &Waveform, _seed: u64) -> Result<Frames> { unimplemented!() }
}
