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
    /// Set on the floor's memories, so a flow can build them from a device's block RAMs.
    #[serde(skip)]
    pub memory: Option<crate::floor::ram::MemorySpec>,
}

impl GenFile {
    /// A generated file that is plain RTL (not one of the floor's memories).
    pub fn rtl(name: String, contents: String) -> GenFile {
        GenFile {
            name,
            contents,
            memory: None,
        }
    }
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

/// One port of the top module as its interface lists it: the clock, reset and handshake that
/// every unit shares, and the unit's data ports.
#[derive(Debug, Clone, Serialize)]
pub struct InterfacePort<'a> {
    pub name: &'a str,
    pub direction: &'static str,
    pub width: u32,
    /// `clock`, `reset` (synchronous, active low), `handshake` or `data`.
    pub role: &'static str,
    /// Data ports: `count` values of `elem_width` bits per beat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elem_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

/// Every port of a top module in declaration order: clock, reset and the input handshake, the
/// data inputs, the output handshake, then the data outputs. The module header, the manifest
/// and `cosim --rtl`'s port check all read this one list.
pub fn interface(data: &[Port]) -> Vec<InterfacePort<'_>> {
    let control = |name: &'static str, direction: &'static str, role: &'static str| InterfacePort {
        name,
        direction,
        width: 1,
        role,
        elem_width: None,
        count: None,
    };
    let of = |direction: &'static str| {
        data.iter()
            .filter(move |p| p.direction == direction)
            .map(|p| InterfacePort {
                name: &p.name,
                direction: p.direction,
                width: p.width,
                role: "data",
                elem_width: Some(p.elem_width),
                count: Some(p.count),
            })
    };
    [
        control("clk_i", "input", "clock"),
        control("rst_ni", "input", "reset"),
        control("valid_i", "input", "handshake"),
        control("ready_o", "output", "handshake"),
    ]
    .into_iter()
    .chain(of("input"))
    .chain([
        control("valid_o", "output", "handshake"),
        control("ready_i", "input", "handshake"),
    ])
    .chain(of("output"))
    .collect()
}

/// The port list of a top module, one declaration a line, names in one column where the
/// range allows.
pub fn module_ports(ports: &[Port]) -> String {
    interface(ports)
        .iter()
        .map(|p| {
            let range = if p.width == 1 {
                String::new()
            } else {
                format!("[{}:0]", p.width - 1)
            };
            format!("  {:<6} wire {range:<6} {}", p.direction, p.name)
        })
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
    /// Cycles a block occupies the unit at full speed.
    pub cycles_per_block: usize,
    /// Most blocks the unit holds at once (a block may wait behind that many).
    pub capacity: u32,
    /// The files are the user's (`cosim --rtl`), not generated: their lint warnings are shown,
    /// not fatal.
    pub user_rtl: bool,
    /// How its memories are written (`build_ecp5_memories`).
    pub memories: crate::floor::ram::MemoryStyle,
}

impl Design {
    /// Build the memories over `LUT_RAM_DEPTH` words from ECP5 DP16KD block RAMs with their
    /// output register instead of the inferred arrays; returns how many there were.
    pub fn build_ecp5_memories(&mut self) -> usize {
        use crate::floor::ram::{LUT_RAM_DEPTH, MemoryStyle, ecp5_ram_source};
        let mut built = 0;
        for f in &mut self.files {
            if let Some(spec) = &f.memory
                && spec.depth > LUT_RAM_DEPTH
            {
                f.contents = ecp5_ram_source(f.name.trim_end_matches(".v"), spec);
                built += 1;
            }
        }
        if built > 0 {
            self.memories = MemoryStyle::Ecp5;
        }
        built
    }

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
