//! Hardware units: one file (or folder) per unit, each a settings type implementing
//! `unit::Unit` (checked once into a `Checked` value that carries its golden model) and
//! `unit::Hardware` (ports, timing, files); everything else is generic over them.

pub mod bd_quantizer;
pub mod bd_selector;
pub mod defaults;
pub mod dequantizer;
pub mod dot;
pub mod gemm;
pub mod mx_quantizer;
pub mod nvfp4_quantizer;
pub mod unit;

pub use bd_quantizer::BdQuantizerParams;
pub use bd_selector::BdSelectorParams;
pub use dequantizer::DequantizerParams;
pub use dot::DotParams;
pub use gemm::GemmParams;
pub use mx_quantizer::MxQuantizerParams;
pub use nvfp4_quantizer::Nvfp4QuantizerParams;
pub use unit::{Checked, Unit};

use crate::emit::design::Design;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Any unit's parameters, as `generate --config` reads them (`unit = "mx-quantizer"` + fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", rename_all = "kebab-case")]
pub enum UnitParams {
    MxQuantizer(MxQuantizerParams),
    BdQuantizer(BdQuantizerParams),
    BdSelector(BdSelectorParams),
    Dot(DotParams),
    Dequantizer(DequantizerParams),
    Nvfp4Quantizer(Nvfp4QuantizerParams),
    Gemm(GemmParams),
}

impl UnitParams {
    /// Every unit's `--unit` / `unit = "..."` name (the serde tag of its variant).
    pub const NAMES: [&'static str; 7] = [
        MxQuantizerParams::NAME,
        BdQuantizerParams::NAME,
        BdSelectorParams::NAME,
        DotParams::NAME,
        DequantizerParams::NAME,
        Nvfp4QuantizerParams::NAME,
        GemmParams::NAME,
    ];

    /// Validate once: the one place a unit is chosen by its settings.
    pub fn check(&self) -> Result<Box<dyn Checked>> {
        Ok(match self {
            UnitParams::MxQuantizer(p) => Box::new(p.check()?),
            UnitParams::BdQuantizer(p) => Box::new(p.check()?),
            UnitParams::BdSelector(p) => Box::new(p.check()?),
            UnitParams::Dot(p) => Box::new(p.check()?),
            UnitParams::Dequantizer(p) => Box::new(p.check()?),
            UnitParams::Nvfp4Quantizer(p) => Box::new(p.check()?),
            UnitParams::Gemm(p) => Box::new(p.check()?),
        })
    }

    pub fn validate(&self) -> Result<()> {
        self.check().map(|_| ())
    }

    pub fn emit(&self) -> Result<Design> {
        self.check()?.emit()
    }
}

impl UnitParams {
    /// A unit from named settings (`unit` and the fields it takes, as TOML or JSON values):
    /// what the command line and `explore` build units from, so every default comes from serde.
    /// A field the unit does not take, or one it needs and lacks, is an input error naming the
    /// flag; the values are checked by `check`.
    pub fn from_fields(fields: serde_json::Map<String, serde_json::Value>) -> Result<UnitParams> {
        let unit = fields
            .get("unit")
            .and_then(|u| u.as_str())
            .unwrap_or("")
            .to_string();
        let flag = |f: &str| format!("--{}", f.replace('_', "-"));
        let p: UnitParams =
            serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
                let msg = e.to_string();
                let quoted = msg.split('`').nth(1).unwrap_or("").to_string();
                if msg.starts_with("unknown field") {
                    Error::input(format!("{} does not apply to --unit {unit}", flag(&quoted)))
                } else if msg.starts_with("missing field") {
                    Error::input(format!("--unit {unit} needs {}", flag(&quoted)))
                } else if msg.starts_with("unknown variant") && quoted == unit {
                    Error::input(format!("unknown unit '{unit}'"))
                } else {
                    Error::input(msg)
                }
            })?;
        Ok(p)
    }
}

/// A `--config` file: several units at once.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(rename = "unit")]
    pub units: Vec<UnitParams>,
}

/// Every unit of a `[[unit]]` file, checked.
pub fn load_checked(path: &std::path::Path) -> Result<Vec<Box<dyn Checked>>> {
    load_config(path)?.iter().map(UnitParams::check).collect()
}

pub fn load_config(path: &std::path::Path) -> Result<Vec<UnitParams>> {
    let text = crate::user_file::read_text(path, 16 << 20)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    parse_config(&text, &path.display().to_string())
}

/// A `--config` file's units (`name` names it in errors); `check` validates each.
pub fn parse_config(text: &str, name: &str) -> Result<Vec<UnitParams>> {
    let cfg: ConfigFile = toml::from_str(text).map_err(|e| {
        Error::input(format!(
            "{name}: {}",
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })?;
    if cfg.units.is_empty() {
        return Err(Error::input(format!("{name}: no [[unit]] tables")));
    }
    Ok(cfg.units)
}
