//! A generated design: its files, ports and timing, the manifest and file list that describe
//! it, and writing it to a folder without clobbering files that are not ours.

use super::banner::{MARKER, is_ours};
use crate::error::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

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
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Serialize)]
struct Manifest<'a> {
    generator: String,
    top: &'a str,
    unit: &'a str,
    parameters: &'a serde_json::Value,
    files: Vec<ManifestFile>,
    file_list: String,
    handshake: &'static str,
    ports: &'a [Port],
    latency_cycles: u32,
    beats_per_block: usize,
    throughput_blocks_per_cycle: f64,
    hash: String,
}

#[derive(Serialize)]
struct ManifestFile {
    name: String,
    sha256: String,
}

/// The outcome of writing a design: what changed on disk.
#[derive(Debug, Default)]
pub struct WriteSummary {
    pub written: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
}

impl Design {
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

    pub fn file_list_name(&self) -> String {
        format!("{}.f", self.top)
    }

    /// A file list for Verilator (`-f`), Icarus (`-c`) and most vendor flows: one path a line,
    /// relative to the list's own folder.
    pub fn file_list(&self) -> String {
        let mut s = format!("// {MARKER} ({})\n", crate::TOOL);
        for f in &self.files {
            s.push_str(&f.name);
            s.push('\n');
        }
        s
    }

    /// This design's manifest entry.
    pub fn manifest(&self) -> serde_json::Value {
        let m = Manifest {
            generator: format!("{MARKER} ({})", crate::TOOL),
            top: &self.top,
            unit: &self.unit,
            parameters: &self.params,
            files: self
                .files
                .iter()
                .map(|f| ManifestFile {
                    name: f.name.clone(),
                    sha256: sha256_hex(f.contents.as_bytes()),
                })
                .collect(),
            file_list: self.file_list_name(),
            handshake: "valid/ready (AXI-Stream rules) on input and output; synchronous active-low reset rst_ni",
            ports: &self.ports,
            latency_cycles: self.latency,
            beats_per_block: self.beats_per_block,
            throughput_blocks_per_cycle: 1.0 / self.beats_per_block as f64,
            hash: self.hash(),
        };
        serde_json::to_value(&m).expect("serializable")
    }

    /// Every file `generate` writes, with its contents, in a fixed order.
    pub fn outputs(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .files
            .iter()
            .map(|f| (f.name.clone(), f.contents.clone()))
            .collect();
        v.push((self.file_list_name(), self.file_list()));
        v
    }

    /// Write into `dir` (created if missing). A file that exists and was not made by blockrtl is
    /// never replaced unless `force`; identical files are left untouched.
    pub fn write_to(&self, dir: &Path, force: bool) -> Result<WriteSummary> {
        write_designs(dir, std::slice::from_ref(self), force)
    }
}

/// Refuse before writing anything if any target is foreign (checked for all files first, so a
/// refusal leaves the folder as it was).
pub fn check_outputs(dir: &Path, outputs: &[(String, String)], force: bool) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::input(format!("cannot create --out {}: {e}", dir.display())))?;
    for (name, _) in outputs {
        let path = dir.join(name);
        if path.exists() && !force {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if !is_ours(&text) {
                return Err(Error::input(format!(
                    "{} exists and was not generated by blockrtl; refusing to overwrite it (add --force to replace it)",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

pub const MANIFEST: &str = "manifest.json";

/// Write several designs into one folder, and merge their entries into the folder's
/// `manifest.json` (keyed by top module, so designs generated into one folder accumulate).
pub fn write_designs(dir: &Path, designs: &[Design], force: bool) -> Result<WriteSummary> {
    let mut outputs: Vec<(String, String)> = designs.iter().flat_map(|d| d.outputs()).collect();
    check_outputs(dir, &outputs, force)?;
    let manifest_path = dir.join(MANIFEST);
    let existing = std::fs::read_to_string(&manifest_path).ok();
    let mut entries: std::collections::BTreeMap<String, serde_json::Value> = match &existing {
        Some(text) if is_ours(text) => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("designs").cloned())
            .and_then(|d| serde_json::from_value(d).ok())
            .unwrap_or_default(),
        Some(_) if !force => {
            return Err(Error::input(format!(
                "{} exists and was not generated by blockrtl; refusing to overwrite it (add --force to replace it)",
                manifest_path.display()
            )));
        }
        _ => Default::default(),
    };
    for d in designs {
        entries.insert(d.top.clone(), d.manifest());
    }
    let index = serde_json::json!({
        "generator": format!("{MARKER} ({})", crate::TOOL),
        "designs": entries,
    });
    let mut text = serde_json::to_string_pretty(&index).expect("serializable");
    text.push('\n');
    outputs.push((MANIFEST.to_string(), text));
    write_outputs(dir, &outputs)
}

pub fn write_outputs(dir: &Path, outputs: &[(String, String)]) -> Result<WriteSummary> {
    let mut summary = WriteSummary::default();
    for (name, contents) in outputs {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == contents.as_bytes()) {
            summary.unchanged.push(path);
            continue;
        }
        super::write::write_atomic(&path, contents.as_bytes())?;
        summary.written.push(path);
    }
    Ok(summary)
}
