//! nextpnr: devices, the command line, and its JSON report (`--report`).

use super::Target;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A device and package, written `DEVICE:PACKAGE` on the command line (e.g. `hx8k:ct256`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub device: String,
    pub package: String,
}

const ICE40_DEVICES: &[(&str, &str)] = &[
    ("lp384", "qn32"),
    ("lp1k", "tq144"),
    ("lp4k", "tq144"),
    ("lp8k", "ct256"),
    ("hx1k", "tq144"),
    ("hx4k", "tq144"),
    ("hx8k", "ct256"),
    ("up3k", "sg48"),
    ("up5k", "sg48"),
    ("u1k", "sg48"),
    ("u2k", "sg48"),
    ("u4k", "sg48"),
];

const ECP5_DEVICES: &[(&str, &str)] = &[
    ("12k", "CABGA381"),
    ("25k", "CABGA381"),
    ("45k", "CABGA381"),
    ("85k", "CABGA381"),
    ("um-25k", "CABGA381"),
    ("um-45k", "CABGA381"),
    ("um-85k", "CABGA381"),
    ("um5g-25k", "CABGA381"),
    ("um5g-45k", "CABGA381"),
    ("um5g-85k", "CABGA381"),
];

impl Part {
    /// The default part of a place-and-route target: the largest common device.
    pub fn default_for(target: Target) -> Option<Part> {
        let (d, p) = match target {
            Target::Ice40 => ("hx8k", "ct256"),
            Target::Ecp5 => ("85k", "CABGA381"),
            Target::Generic | Target::Xilinx => return None,
        };
        Some(Part {
            device: d.into(),
            package: p.into(),
        })
    }

    pub fn parse(target: Target, text: &str) -> Result<Part> {
        let devices = match target {
            Target::Ice40 => ICE40_DEVICES,
            Target::Ecp5 => ECP5_DEVICES,
            Target::Generic | Target::Xilinx => {
                return Err(Error::input(format!(
                    "--part is for ice40 and ecp5 (for xilinx give a family with --part xc7, xcup or xcu); got '{text}' for {target}"
                )));
            }
        };
        let (dev, pkg) = match text.split_once(':') {
            Some((d, p)) => (d.trim().to_lowercase(), Some(p.trim().to_string())),
            None => (text.trim().to_lowercase(), None),
        };
        let (_, default_pkg) = devices.iter().find(|(d, _)| *d == dev).ok_or_else(|| {
            let names: Vec<&str> = devices.iter().map(|(d, _)| *d).collect();
            Error::input(format!(
                "--part '{text}': unknown {target} device (one of {}; add :PACKAGE to pick a package)",
                names.join(", ")
            ))
        })?;
        Ok(Part {
            device: dev,
            package: pkg.unwrap_or_else(|| default_pkg.to_string()),
        })
    }

    /// nextpnr's device and package flags.
    pub fn args(&self) -> Vec<String> {
        vec![
            format!("--{}", self.device),
            "--package".into(),
            self.package.clone(),
        ]
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.device, self.package)
    }
}

#[derive(Deserialize)]
struct NextpnrReport {
    #[serde(default)]
    fmax: BTreeMap<String, Fmax>,
    #[serde(default)]
    utilization: BTreeMap<String, Use>,
}

#[derive(Deserialize)]
struct Fmax {
    achieved: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    pub used: u64,
    pub available: u64,
}

/// What one place-and-route run achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnrRun {
    pub seed: u64,
    pub fmax_mhz: f64,
    /// Device resources in use, wrapper included (only the kinds in use).
    pub utilization: BTreeMap<String, Use>,
}

/// Parse a nextpnr `--report` file: the slowest clock's achieved Fmax and the resources used.
pub fn parse_report(text: &str, seed: u64) -> Result<PnrRun> {
    let r: NextpnrReport = serde_json::from_str(text).map_err(|e| {
        Error::tool(format!(
            "nextpnr report is not the JSON `--report` writes ({e}); the run may have been cut short"
        ))
    })?;
    let fmax = r
        .fmax
        .values()
        .map(|f| f.achieved)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
        .ok_or_else(|| Error::tool("nextpnr report has no clock in its fmax section"))?;
    if !fmax.is_finite() || fmax <= 0.0 {
        return Err(Error::tool(format!(
            "nextpnr report gives an Fmax of {fmax} MHz"
        )));
    }
    Ok(PnrRun {
        seed,
        fmax_mhz: fmax,
        utilization: r
            .utilization
            .into_iter()
            .filter(|(_, u)| u.used > 0)
            .collect(),
    })
}

/// nextpnr's arguments for one run, with paths relative to the run folder (YoWASP tools see
/// their own /tmp, so absolute paths there would not resolve).
pub fn args(part: &Part, freq_mhz: f64, seed: u64, netlist: &str, report: &str) -> Vec<String> {
    let mut a = part.args();
    a.extend(
        [
            "--json",
            netlist,
            "--report",
            report,
            "--freq",
            &format!("{freq_mhz}"),
            "--seed",
            &seed.to_string(),
            "--timing-allow-fail",
            "-q",
        ]
        .map(String::from),
    );
    a
}
