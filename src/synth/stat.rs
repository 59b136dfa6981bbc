//! Reading Yosys `stat -json` (never the text report, whose layout changed between versions)
//! and sorting a target's cell types into LUTs, flip-flops, carries, DSPs and block RAMs.

use super::Target;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct StatJson {
    modules: BTreeMap<String, ModuleStat>,
}

#[derive(Deserialize)]
struct ModuleStat {
    num_cells: u64,
    num_cells_by_type: BTreeMap<String, u64>,
}

/// A module's mapped cells, sorted by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub cells: u64,
    /// LUTs of the target (none for generic gates).
    pub luts: Option<u64>,
    pub ffs: u64,
    pub carries: u64,
    pub dsps: u64,
    pub brams: u64,
    pub cell_types: BTreeMap<String, u64>,
}

/// The cells of `module` in a `stat -json` report.
pub fn parse(text: &str, module: &str, target: Target) -> Result<Area> {
    let stat: StatJson = serde_json::from_str(text).map_err(|e| {
        Error::tool(format!(
            "Yosys statistics are not the JSON `stat -json` writes ({e}); the run may have been cut short"
        ))
    })?;
    let m = stat
        .modules
        .get(&format!("\\{module}"))
        .or_else(|| stat.modules.get(module))
        .ok_or_else(|| {
            let names: Vec<&str> = stat.modules.keys().map(String::as_str).collect();
            Error::tool(format!(
                "Yosys statistics have no module {module} (modules: {})",
                names.join(", ")
            ))
        })?;
    let by_type: BTreeMap<String, u64> = m
        .num_cells_by_type
        .iter()
        .map(|(k, v)| (k.trim_start_matches('\\').to_string(), *v))
        .collect();
    let sum = |pred: &dyn Fn(&str) -> bool| -> u64 {
        by_type
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v)
            .sum()
    };
    let kinds = Kinds::of(target);
    Ok(Area {
        cells: m.num_cells,
        luts: kinds.lut.map(|f| sum(&f)),
        ffs: sum(&kinds.ff),
        carries: sum(&kinds.carry),
        dsps: sum(&kinds.dsp),
        brams: sum(&kinds.bram),
        cell_types: by_type,
    })
}

/// Which cell type names count as what, per target.
struct Kinds {
    lut: Option<fn(&str) -> bool>,
    ff: fn(&str) -> bool,
    carry: fn(&str) -> bool,
    dsp: fn(&str) -> bool,
    bram: fn(&str) -> bool,
}

impl Kinds {
    fn of(target: Target) -> Kinds {
        match target {
            Target::Generic => Kinds {
                lut: None,
                ff: |t| {
                    t.starts_with("$_DFF") || t.starts_with("$_SDFF") || t.starts_with("$_ALDFF")
                },
                carry: |_| false,
                dsp: |t| t == "$mul" || t == "$macc",
                bram: |t| t.starts_with("$mem"),
            },
            Target::Ice40 => Kinds {
                lut: Some(|t| t == "SB_LUT4"),
                ff: |t| t.starts_with("SB_DFF"),
                carry: |t| t == "SB_CARRY",
                dsp: |t| t == "SB_MAC16",
                bram: |t| t.starts_with("SB_RAM") || t == "SB_SPRAM256KA",
            },
            Target::Ecp5 => Kinds {
                lut: Some(|t| t == "LUT4"),
                ff: |t| t == "TRELLIS_FF",
                carry: |t| t == "CCU2C",
                dsp: |t| t.starts_with("MULT") || t == "ALU54B",
                bram: |t| t == "DP16KD" || t == "PDPW16KD",
            },
            Target::Xilinx => Kinds {
                lut: Some(|t| t.len() == 4 && t.starts_with("LUT")),
                ff: |t| matches!(t, "FDRE" | "FDSE" | "FDCE" | "FDPE"),
                carry: |t| t.starts_with("CARRY"),
                dsp: |t| t.starts_with("DSP48"),
                bram: |t| t.starts_with("RAMB"),
            },
        }
    }
}
