//! The unit contract. A unit is its settings (a serde struct: `[[unit]]` tables, the command
//! line and sweeps all read it) checked once into a value that carries what every later use
//! needs (the golden model, the formatbook); generate, cosim, synth and sweeps take that value
//! and never validate again.

use crate::emit::design::Design;
use crate::emit::layout::Layout;
use crate::error::Result;
use crate::stimulus::Dist;
use rand_pcg::Pcg64;

pub trait Unit: serde::Serialize + Clone {
    /// The name `--unit` and `unit = "..."` use.
    const NAME: &'static str;
    type Checked: Checked + 'static;

    /// Validate the settings, once.
    fn check(&self) -> Result<Self::Checked>;

    /// Check and emit in one step (for callers that do nothing else with the unit).
    fn emit(&self) -> Result<Design> {
        self.check()?.emit()
    }
}

/// A validated unit: its hardware (files, ports, timing) and, for co-simulation, its stimulus
/// and golden expectations, block by block.
pub trait Checked: Send + Sync {
    fn emit(&self) -> Result<Design>;
    /// Stimulus values per block (raw input codes as the hardware receives them).
    fn stimulus_len(&self) -> usize;
    /// Append one block of stimulus values.
    fn stimulus(&self, dist: Dist, rng: &mut Pcg64, out: &mut Vec<u32>);
    /// Append the input beat records of one block. By default the stimulus values are the
    /// elements of the only input port, beat after beat (quantizers, the selector).
    fn input_beats(&self, layout: &Layout, stim: &[u32], out: &mut Vec<u8>) {
        let port = &layout.fields[0];
        for values in stim.chunks(port.count) {
            layout
                .beat(out)
                .put(&port.name, values.iter().map(|&x| i128::from(x)));
        }
    }
    /// Append the golden model's output beat records for one block.
    fn expected_beats(&self, layout: &Layout, stim: &[u32], out: &mut Vec<u8>);
}
