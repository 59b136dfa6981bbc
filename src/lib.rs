//! blockrtl: generate and co-simulate RTL for block-scaled number formats (OCP MX, DialectFP4).

pub mod format;
pub mod golden;
