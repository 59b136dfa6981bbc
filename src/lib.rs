//! blockrtl: generate and co-simulate RTL for block-scaled number formats (OCP MX, DialectFP4).

pub mod cache;
pub mod cosim;
pub mod emit;
pub mod error;
pub mod explore;
pub mod floor;
pub mod format;
pub mod golden;
pub mod io;
pub mod package;
pub mod progress;
pub mod prove;
pub mod quantize;
pub mod stimulus;
pub mod synth;
pub mod tool_run;
pub mod units;
pub mod user_file;

pub use error::{Error, Result};

/// Tool name and version, as stamped into every generated file.
pub const TOOL: &str = concat!("blockrtl ", env!("CARGO_PKG_VERSION"));
