//! FP32 pieces: rounding an exact integer times a power of two to binary32 (RNE, subnormals
//! kept), and a binary32 adder built on it. Dot accumulates with them; any unit that sums in
//! FP32 takes the same modules.

use crate::emit::bits_for;
use crate::emit::design::GenFile;
use crate::floor::finish;
use askama::Template;

/// Below the normal range, a gap (normal_min - flb) past this shifts every bit out.
const MAX_GAP: i64 = 25;

/// Widths of the int-to-FP32 rounding module (`templates/rtl/tof32.v`).
#[derive(Debug, Clone)]
struct ToF32View {
    xb: i64,
    mw_msb: u32,
    xw_msb: u32,
    nw: u32,
    nw_msb: u32,
    nw_plus1: u32,
    lz_w: u32,
    lz_msb: u32,
    pad_expr: String,
    k: i64,
    fw: u32,
    fw_msb: u32,
    fw_pad_x: u32,
    fw_pad_lz: u32,
    normal_min: i64,
    rw: u32,
    rw_msb: u32,
    base_shift: u32,
    max_gap: u32,
    hi_off: i64,
    /// flb below which the gap passes `max_gap`, as a test of flb2_w (or never).
    tiny_expr: String,
    /// normal_min + base_shift, modulo 2^rw: the shift below the normal range is this - flb
    /// in rw bits (it is at most nw + 1 there).
    sdist_off: i64,
}

impl ToF32View {
    /// value = mag * 2^(exp - xb), mag `mw` bits, exp `xw` bits.
    fn new(mw: u32, xw: u32, xb: i64) -> ToF32View {
        let nw = mw.max(26);
        let k = xb + i64::from(nw - mw);
        let normal_min = k - 126;
        assert!(
            normal_min > 0,
            "the exponent bias keeps the normal range above zero"
        );
        let lz_w = bits_for(u64::from(nw));
        let flb_max = (1i64 << xw) - 1 + i64::from(nw) - 1;
        let fw = bits_for(flb_max.max(normal_min) as u64) + 1;
        let rw = bits_for(u64::from(nw) + 1);
        assert!(fw > 8, "the binade compares with 255 and 254");
        ToF32View {
            xb,
            mw_msb: mw - 1,
            xw_msb: xw - 1,
            nw,
            nw_msb: nw - 1,
            nw_plus1: nw + 1,
            lz_w,
            lz_msb: lz_w - 1,
            pad_expr: if nw > mw {
                format!("{{mag_i, {}'d0}}", nw - mw)
            } else {
                "mag_i".into()
            },
            k,
            fw,
            fw_msb: fw - 1,
            fw_pad_x: fw - xw,
            fw_pad_lz: fw - lz_w,
            normal_min,
            rw,
            rw_msb: rw - 1,
            base_shift: nw - 24,
            max_gap: MAX_GAP as u32,
            // binade = flb - normal_min, + 1 for the hidden bit
            hi_off: normal_min - 1,
            tiny_expr: if normal_min > MAX_GAP {
                format!("flb2_w < {fw}'d{}", normal_min - MAX_GAP)
            } else {
                "1'b0".into()
            },
            sdist_off: (normal_min + i64::from(nw - 24)) & ((1 << rw) - 1),
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/tof32.v", escape = "none")]
struct ToF32Template<'a> {
    banner: &'a str,
    name: &'a str,
    t: &'a ToF32View,
    pipe: bool,
    pipe_latency: u32,
}

#[derive(Template)]
#[template(path = "rtl/fadd.v", escape = "none")]
struct FaddTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    tof32_name: &'a str,
    pipe: bool,
    latency: u32,
    round_latency: u32,
    side_shift: String,
}

/// Cycles from the pipelined rounding module's inputs to its (combinational) result.
pub const PIPELINED_ROUND_LATENCY: u32 = 4;

/// Cycles from the pipelined adder's operands to its sum: the operand register, the order by
/// magnitude, the alignment distance, the alignment, the exact sum, the pipelined rounding,
/// and the result register.
pub const PIPELINED_ADDER_LATENCY: u32 = 6 + PIPELINED_ROUND_LATENCY;

/// The rounding module `name`: value = mag * 2^(exp - xb), mag `mw` bits, exp `xw` bits.
pub fn to_f32_file(banner: &str, name: &str, mw: u32, xw: u32, xb: i64) -> GenFile {
    to_f32_file_of(banner, name, ToF32View::new(mw, xw, xb), false)
}

/// The same rounding with `PIPELINED_ROUND_LATENCY` register stages inside (a `clk_i` port,
/// no handshake): the leading-zero count, the normalisation, the rounding distance and the
/// rounding decision each get a cycle, so no path holds more than one of them.
pub fn pipelined_to_f32_file(banner: &str, name: &str, mw: u32, xw: u32, xb: i64) -> GenFile {
    to_f32_file_of(banner, name, ToF32View::new(mw, xw, xb), true)
}

fn to_f32_file_of(banner: &str, name: &str, t: ToF32View, pipe: bool) -> GenFile {
    GenFile::rtl(
        format!("{name}.v"),
        finish(
            ToF32Template {
                banner,
                name,
                t: &t,
                pipe,
                pipe_latency: PIPELINED_ROUND_LATENCY,
            }
            .render(),
        ),
    )
}

/// The binary32 adder `name` and the rounding module `round_name` it instantiates (the exact
/// aligned sum: 28 bits with an 8-bit exponent).
pub fn adder_files(banner: &str, name: &str, round_name: &str) -> [GenFile; 2] {
    adder_files_of(banner, name, round_name, false)
}

/// The same adder with `PIPELINED_ADDER_LATENCY` register stages (a `clk_i` port, no
/// handshake): for accumulators that keep several sums in flight.
pub fn pipelined_adder_files(banner: &str, name: &str, round_name: &str) -> [GenFile; 2] {
    adder_files_of(banner, name, round_name, true)
}

fn adder_files_of(banner: &str, name: &str, round_name: &str, pipe: bool) -> [GenFile; 2] {
    [
        to_f32_file_of(banner, round_name, ToF32View::new(28, 8, 153), pipe),
        GenFile::rtl(
            format!("{name}.v"),
            finish(
                FaddTemplate {
                    banner,
                    name,
                    tof32_name: round_name,
                    pipe,
                    latency: PIPELINED_ADDER_LATENCY,
                    round_latency: PIPELINED_ROUND_LATENCY,
                    side_shift: if PIPELINED_ROUND_LATENCY > 1 {
                        format!(
                            "{{side_q[{}:0], side_w}}",
                            (PIPELINED_ROUND_LATENCY - 1) * 35 - 1
                        )
                    } else {
                        "side_w".into()
                    },
                }
                .render(),
            ),
        ),
    ]
}
