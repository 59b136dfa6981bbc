//! Shared emission plumbing: banners, pipeline stage planning, reduction trees, writing a
//! design to disk without clobbering what is not ours.

pub mod banner;
pub mod compressor;
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

/// The leading zeros of the `width`-bit signal `sig` as an `out_w`-bit Verilog value: a chain of
/// tests from the top bit (`width - 1` when no bit above bit 0 is set).
pub fn leading_zeros_expr(sig: &str, width: u32, out_w: u32) -> String {
    (0..width.saturating_sub(1))
        .map(|i| format!("{sig}[{}] ? {out_w}'d{i} : ", width - 1 - i))
        .collect::<String>()
        + &format!("{out_w}'d{}", width.saturating_sub(1))
}

/// The trailing zeros of `sig` as an `out_w`-bit Verilog value, a chain of tests from bit 0
/// (`width - 1` when no bit below the top is set).
pub fn trailing_zeros_expr(sig: &str, width: u32, out_w: u32) -> String {
    (0..width.saturating_sub(1))
        .map(|i| format!("{sig}[{i}] ? {out_w}'d{i} : "))
        .collect::<String>()
        + &format!("{out_w}'d{}", width.saturating_sub(1))
}
