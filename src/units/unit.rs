//! The unit contract. A unit is its settings (a serde struct: `[[unit]]` tables, the command
//! line and sweeps all read it) checked once into a value that carries what every later use
//! needs (the golden model, the formatbook); generate, cosim, synth and sweeps take that value
//! and never validate again.

use crate::cosim::CosimUnit;
use crate::emit::design::Design;
use crate::error::Result;

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
/// and golden expectations.
pub trait Checked: CosimUnit + Send {
    fn emit(&self) -> Result<Design>;
}
