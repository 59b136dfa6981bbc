//! Shared emission plumbing: banners, pipeline stage planning, reduction trees, writing a
//! design to disk without clobbering what is not ours.

pub mod banner;
pub mod design;
pub mod layout;
pub mod pipeline;
pub mod tree;
pub mod write;

/// A Verilog expression zero-extending the `width`-bit signal `sig` to `to` bits.
pub fn zero_extend(sig: &str, width: u32, to: u32) -> String {
    if to > width {
        format!("{{{}'d0, {sig}}}", to - width)
    } else {
        sig.to_string()
    }
}

/// Bits needed to hold `v` (at least 1).
pub fn bits_for(v: u64) -> u32 {
    (64 - v.leading_zeros()).max(1)
}
