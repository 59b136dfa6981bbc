//! A generated design: its files, ports and timing, the manifest and file list that describe
//! it, and writing it to a folder without clobbering files that are not ours.

use crate::error::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct GenFile {
    pub name: String,
    #[serde(skip)]
    pub contents: String,
}

/// One port of the top module. Data ports carry `count` values of `elem_width` bits per beat.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    pub name: String,
    pub direction: &'static str,
    pub width: u32,
    pub elem_width: u32,
    pub count: usize,
}

impl Port {
    pub fn input(name: &str, elem_width: u32, count: usize) -> Port {
        Port::new(name, "input", elem_width, count)
    }

    pub fn output(name: &str, elem_width: u32, count: usize) -> Port {
        Port::new(name, "output", elem_width, count)
    }

    fn new(name: &str, direction: &'static str, elem_width: u32, count: usize) -> Port {
        Port {
            name: name.to_string(),
            direction,
            width: elem_width * count as u32,
            elem_width,
            count,
        }
    }
}

/// The port list of a top module, from the same ports the manifest, harness, testbench and
/// wrapper read: clock, reset and the input handshake, the inputs, the output handshake, then
/// the outputs, one declaration per line with names in one column where the range allows.
pub fn module_ports(ports: &[Port]) -> String {
    let decl = |direction: &str, width: u32, name: &str| {
        let range = if width == 1 {
            String::new()
        } else {
            format!("[{}:0]", width - 1)
        };
        format!("  {direction:<6} wire {range:<6} {name}")
    };
    let of = |direction: &'static str| {
        ports
            .iter()
            .filter(move |p| p.direction == direction)
            .map(move |p| decl(p.direction, p.width, &p.name))
    };
    [
        decl("input", 1, "clk_i"),
        decl("input", 1, "rst_ni"),
        decl("input", 1, "valid_i"),
        decl("output", 1, "ready_o"),
    ]
    .into_iter()
    .chain(of("input"))
    .chain([decl("output", 1, "valid_o"), decl("input", 1, "ready_i")])
    .chain(of("output"))
    .collect::<Vec<_>>()
    .join(",\n")
}

/// Everything `generate` makes for one unit configuration.
#[derive(Debug, Clone)]
pub struct Design {
    pub top: String,
    pub unit: String,
    /// The unit's parameters as given (after defaults), for the manifest.
    pub params: serde_json::Value,
    /// Verilog files, dependencies first, top last.
    pub files: Vec<GenFile>,
    /// Data ports (clock, reset and handshake are the same on every unit and not listed).
    pub ports: Vec<Port>,
    /// Cycles from a block's first input beat to its first output beat, with no stalls.
    pub latency: u32,
    pub beats_per_block: usize,
    /// The files are the user's (`cosim --rtl`), not generated: their lint warnings are shown,
    /// not fatal.
    pub user_rtl: bool,
}

impl Design {
    /// Write the Verilog files alone into `dir` (a tool's run folder); returns their names,
    /// dependencies first.
    pub fn write_sources(&self, dir: &Path) -> Result<Vec<String>> {
        for f in &self.files {
            crate::cache::write(dir, &f.name, &f.contents)?;
        }
        Ok(self.files.iter().map(|f| f.name.clone()).collect())
    }

    /// SHA-256 over the names and contents of the Verilog files: the design's identity.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for f in &self.files {
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.contents.as_bytes());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_ports_put_the_handshake_around_the_data_ports() {
        let ports = [
            Port::input("data_i", 16, 4),
            Port::output("scale_o", 8, 1),
            Port::output("nan_o", 1, 1),
        ];
        let want = [
            "  input  wire        clk_i",
            "  input  wire        rst_ni",
            "  input  wire        valid_i",
            "  output wire        ready_o",
            "  input  wire [63:0] data_i",
            "  output wire        valid_o",
            "  input  wire        ready_i",
            // a narrow range is padded so the names stay in one column
            "  output wire [7:0]  scale_o",
            "  output wire        nan_o",
        ];
        assert_eq!(module_ports(&ports), want.join(",\n"));
    }
}
