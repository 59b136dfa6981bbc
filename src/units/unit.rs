//! The unit contract. A unit is its settings (a serde struct: `[[unit]]` tables, the command
//! line and sweeps all read it) checked once into a value that carries what every later use
//! needs (the golden model, the formatbook); generate, cosim, synth and sweeps take that value
//! and never validate again. The banner, the manifest's parameters and the regenerate command
//! are all derived here from the serde form, so a unit never restates its fields.

use crate::emit::design::{Design, GenFile, Port};
use crate::emit::layout::Layout;
use crate::error::Result;
use crate::stimulus::Dist;
use rand_pcg::Pcg64;
use serde_json::Value;

pub trait Unit: serde::Serialize + Clone {
    /// The name `--unit` and `unit = "..."` use.
    const NAME: &'static str;
    /// Fields the banner's configuration lines leave to the unit's notes (a formatbook is
    /// listed there dialect by dialect).
    const NOTED: &'static [&'static str] = &[];
    type Checked: Checked + 'static;

    /// Validate the settings, once.
    fn check(&self) -> Result<Self::Checked>;

    /// The settings with every default that depends on others filled in (`lanes` = the block
    /// size), as banners and regenerate commands state them.
    fn resolved(&self) -> Self {
        self.clone()
    }

    /// Whether a field belongs in the regenerate command (a field that does not apply to these
    /// settings, like a dot length without accumulation, is left out).
    fn states(&self, _field: &str) -> bool {
        true
    }

    /// Check and emit in one step (for callers that do nothing else with the unit).
    fn emit(&self) -> Result<Design> {
        self.check()?.emit()
    }
}

/// What a design states about the settings it came from, all derived from their serde form.
#[derive(Debug, Clone)]
pub struct Spec {
    pub unit: &'static str,
    /// The settings as given (after serde defaults), for the manifest.
    pub params: Value,
    /// `key = value` lines of the resolved settings, for the banner.
    pub config: Vec<(String, String)>,
    /// The `blockrtl generate` command that makes the same files.
    pub command: String,
}

impl Spec {
    pub fn of<U: Unit>(u: &U) -> Spec {
        let fields = match serde_json::to_value(u.resolved()).expect("serializable") {
            Value::Object(m) => m,
            _ => unreachable!("unit settings are a struct"),
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let config = fields
            .iter()
            .filter(|(k, _)| !U::NOTED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        let mut command = format!("blockrtl generate --unit {}", U::NAME);
        for (k, v) in fields.iter().filter(|(k, _)| u.states(k)) {
            let flag = k.replace('_', "-");
            match v {
                Value::Null | Value::Bool(false) => {}
                Value::Bool(true) => command.push_str(&format!(" --{flag}")),
                v => command.push_str(&format!(" --{flag} {}", text(v))),
            }
        }
        Spec {
            unit: U::NAME,
            params: serde_json::to_value(u).expect("serializable"),
            config,
            command,
        }
    }

    /// The banner: the configuration lines, the regenerate command, then the unit's notes.
    pub fn banner(&self, notes: &[String]) -> String {
        let mut all = vec![format!("regenerate: {}", self.command)];
        all.extend_from_slice(notes);
        crate::emit::banner::banner(self.unit, &self.config, &all)
    }
}

/// A unit's hardware: implemented by the settings type, reached through `Checked::hardware`
/// (so only validated settings are emitted).
pub trait Hardware: Send + Sync {
    /// The settings (`Spec::of(self)`).
    fn spec(&self) -> Spec;
    /// The top module's name, carrying the configuration.
    fn top(&self) -> Result<String>;
    /// Data ports (clock, reset and handshake are the same on every unit and not listed).
    fn ports(&self) -> Vec<Port>;
    /// Cycles from a block's first input beat to its first output beat, with no stalls.
    fn latency(&self) -> u32;
    fn beats_per_block(&self) -> usize;
    /// Cycles a block occupies the unit at full speed (the sink always ready): its beats, unless
    /// the unit works on a block longer than it takes to receive it.
    fn cycles_per_block(&self) -> usize {
        self.beats_per_block()
    }
    /// Cycles a block needs at the arithmetic's peak rate (every multiplier busy every cycle),
    /// for units whose rate is set by their arithmetic rather than their beats.
    fn peak_cycles_per_block(&self) -> Option<u64> {
        None
    }
    /// What `prove` checks beyond ports and timing: capacity, NaN rule, codes never written.
    fn formal(&self) -> crate::prove::facts::Facts;
    /// Banner lines after the regenerate command (formatbook, numerics reference).
    fn notes(&self) -> Result<Vec<String>>;
    /// The Verilog files, dependencies first, top last, each opening with `banner`.
    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>>;
}

/// A validated unit: its hardware and, for co-simulation, its stimulus and golden
/// expectations, block by block.
pub trait Checked: Send + Sync {
    fn hardware(&self) -> &dyn Hardware;

    fn emit(&self) -> Result<Design> {
        let hw = self.hardware();
        let spec = hw.spec();
        let top = hw.top()?;
        let banner = spec.banner(&hw.notes()?);
        Ok(Design {
            files: hw.files(&top, &banner)?,
            top,
            unit: spec.unit.into(),
            params: spec.params,
            ports: hw.ports(),
            latency: hw.latency(),
            beats_per_block: hw.beats_per_block(),
            cycles_per_block: hw.cycles_per_block(),
            capacity: hw.formal().capacity,
            user_rtl: false,
            memories: Default::default(),
        })
    }

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

    /// What the unit's results lose against exact arithmetic on the unquantized inputs, over
    /// the stimulus of a run (whole blocks): one line for the report, or None.
    fn accuracy(&self, _stim: &[u32]) -> Option<String> {
        None
    }
}
