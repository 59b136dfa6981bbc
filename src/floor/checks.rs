//! The checks every unit with a block size, lanes and a pipeline makes, in one place.

use crate::error::{Error, Result};

/// Block sizes the RTL supports: powers of two in this range.
pub const RTL_BLOCK_SIZES: std::ops::RangeInclusive<usize> = 2..=1024;
/// More stages than this have nowhere useful to go.
pub const MAX_PIPELINE: usize = 8;
/// Checks shared by every unit with a block size, lanes and pipeline depth.
/// docs/numerics.md section 3 flushes FP32 subnormals; every FP16 subnormal is a normal FP32 value, so
/// the option means nothing for FP16 input (and the RTL would flush FP16 subnormals instead).
pub fn check_flush(input: crate::format::InputFormat, flush: bool) -> Result<()> {
    if flush && input == crate::format::InputFormat::F16 {
        return Err(Error::input(
            "flush_subnormals applies to f32 and bf16 inputs: it zeroes FP32 subnormals (docs/numerics.md section 3), and no FP16 value is one",
        ));
    }
    Ok(())
}

pub fn validate_blocking(k: usize, lanes: usize, pipeline: usize) -> Result<()> {
    validate_blocking_upto(k, lanes, pipeline, MAX_PIPELINE)
}

pub fn validate_blocking_upto(
    k: usize,
    lanes: usize,
    pipeline: usize,
    max_pipeline: usize,
) -> Result<()> {
    if k == 0 {
        return Err(Error::input("block size must be at least 1"));
    }
    if !k.is_power_of_two() || !RTL_BLOCK_SIZES.contains(&k) {
        return Err(Error::input(format!(
            "block size {k}: the RTL supports powers of two from 2 to 1024 (the golden model takes any k)"
        )));
    }
    if lanes == 0 || !k.is_multiple_of(lanes) {
        return Err(Error::input(format!(
            "lanes {lanes} must divide the block size {k} (k / lanes beats per block)"
        )));
    }
    if pipeline > max_pipeline {
        return Err(Error::input(format!(
            "pipeline {pipeline}: at most {max_pipeline} stages"
        )));
    }
    Ok(())
}

/// Fraction bits the RTL supports (the golden model also takes larger values and `exact`).
pub const RTL_FRAC_BITS: std::ops::RangeInclusive<u32> = 1..=6;

pub fn check_frac_bits(frac: u32) -> Result<()> {
    if !RTL_FRAC_BITS.contains(&frac) {
        return Err(Error::input(format!(
            "frac bits {frac}: the RTL supports {} to {} (exact and wider fractions are golden-model only)",
            RTL_FRAC_BITS.start(),
            RTL_FRAC_BITS.end()
        )));
    }
    Ok(())
}

/// `lanes()` (the `lanes` field, or the whole block) and `beats()` (beats per block) for a
/// settings struct with `block_size` and `lanes: Option<usize>` fields.
macro_rules! lanes_and_beats {
    ($t:ty) => {
        impl $t {
            pub fn lanes(&self) -> usize {
                self.lanes.unwrap_or(self.block_size)
            }

            pub fn beats(&self) -> usize {
                self.block_size / self.lanes()
            }
        }
    };
}
pub(crate) use lanes_and_beats;
