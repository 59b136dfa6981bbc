//! The one place unit defaults live: serde fills every field a `[[unit]]` table or the command
//! line leaves out from these (the CLI deserializes its flags into the same params), so the same
//! settings always make the same hardware.

use crate::golden::Selector;

pub const BLOCK_SIZE: usize = 32;
/// Two register stages: a registered block maximum and registered outputs.
pub const PIPELINE: usize = 2;
pub const FRAC_BITS: u32 = 2;
pub const SELECTOR: Selector = Selector::TwoStage;
pub const DOT_LENGTH: usize = 1;
pub const ACC_WIDTH: u32 = 48;
pub const ACC_LSB: i32 = -24;

/// NVFP4's own block size (16), for its quantizer.
pub fn nvfp4_block_size() -> usize {
    crate::golden::nvfp4::DEFAULT_BLOCK_SIZE
}

pub fn block_size() -> usize {
    BLOCK_SIZE
}

pub fn pipeline() -> usize {
    PIPELINE
}

pub fn frac_bits() -> u32 {
    FRAC_BITS
}

pub fn selector() -> Selector {
    SELECTOR
}

pub fn dot_length() -> usize {
    DOT_LENGTH
}

pub fn acc_width() -> u32 {
    ACC_WIDTH
}

pub fn acc_lsb() -> i32 {
    ACC_LSB
}

/// The gemm tile's rows and columns of dot units.
pub fn tile() -> usize {
    2
}

pub fn weight_seed() -> u64 {
    1
}
