//! The input decode lane (`templates/rtl/mxq_dec.v`): every unit that takes FP32/BF16/FP16
//! blocks splits each element into sign, special, floor(log2) and significand the same way.

use crate::emit::bits_for;
use crate::format::InputFormat;
use askama::Template;

/// Widths of the decode lane (`templates/rtl/mxq_dec.v`), shared by every unit that takes
/// FP32/BF16/FP16 blocks: the input format and how many significand bits the unit keeps.
#[derive(Debug, Clone)]
pub struct DecodeNumbers {
    pub in_w: u32,
    pub in_msb: u32,
    pub exp_bits: u32,
    pub exp_msb: u32,
    pub exp_hi: u32,
    pub man_bits: u32,
    pub man_msb: u32,
    pub norm_w: u32,
    /// flb = floor(log2 |x|) + flb_offset (input bias + mantissa bits).
    pub flb_offset: i64,
    pub flb_max: i64,
    pub flb_w: u32,
    pub flb_msb: u32,
    pub flb_pad_exp: u32,
    pub sig_w: u32,
    pub sig_msb: u32,
    pub sig_pad: u32,
    pub sticky_bits: u32,
    pub sticky_msb: u32,
    /// Subnormal inputs whose leading one lies below this fraction bit decode as zeros: the
    /// unit never gives them a nonzero code (see `prune_subnormals_below`).
    pub lead_min: u32,
    /// Width of the leading-one position counted from `lead_min`, and the shift that
    /// normalizes the lowest one kept.
    pub lead_w: u32,
    pub lead_msb: u32,
    pub lead_span: u32,
    /// lead_min mod 2^lead_w (the search subtracts it in lead_w bits).
    pub lead_min_low: u32,
    /// flb_o is flb - man_bits in flb_w-bit two's complement (see `less_man_bits`).
    pub flb_less_man: bool,
    /// What a subnormal's leading-one position adds to form flb_o (mod 2^flb_w).
    pub sub_add: u64,
}

impl DecodeNumbers {
    pub fn new(input: InputFormat, sig_w: u32) -> DecodeNumbers {
        let ieee = input.ieee();
        let (exp_bits, man_bits) = (ieee.ebits, ieee.mbits);
        let in_w = input.bits();
        let flb_offset = ((1i64 << (exp_bits - 1)) - 1) + i64::from(man_bits);
        let norm_w = man_bits + 1;
        let flb_max = (1i64 << exp_bits) - 2 + i64::from(man_bits);
        let flb_w = bits_for(flb_max as u64);
        let lz_w = bits_for(u64::from(man_bits));
        DecodeNumbers {
            in_w,
            in_msb: in_w - 1,
            exp_bits,
            exp_msb: exp_bits - 1,
            exp_hi: in_w - 2,
            man_bits,
            man_msb: man_bits - 1,
            norm_w,
            flb_offset,
            flb_max,
            flb_w,
            flb_msb: flb_w - 1,
            flb_pad_exp: flb_w - exp_bits,
            sig_w,
            sig_msb: sig_w - 1,
            sig_pad: sig_w.saturating_sub(norm_w),
            sticky_bits: norm_w.saturating_sub(sig_w),
            sticky_msb: norm_w.saturating_sub(sig_w).saturating_sub(1),
            lead_min: 0,
            lead_w: lz_w,
            lead_msb: lz_w - 1,
            lead_span: man_bits,
            lead_min_low: 0,
            flb_less_man: false,
            sub_add: 1,
        }
    }

    /// Subnormal inputs with floor(log2) + flb_offset below `flb_min` give zero codes whatever
    /// the block holds, so the leading-one search and the normalizing shift skip the fraction
    /// bits such inputs start in. None when that leaves no fraction bit (decode them as zeros,
    /// as flush_subnormals does).
    pub fn prune_subnormals_below(mut self, flb_min: i64) -> Option<DecodeNumbers> {
        // A subnormal's flb is its leading one's position + 1.
        let lead_min = (flb_min - 1).max(0);
        if lead_min >= i64::from(self.man_bits) {
            return None;
        }
        self.lead_min = lead_min as u32;
        self.lead_span = self.man_bits - self.lead_min;
        self.lead_w = bits_for(u64::from(self.lead_span));
        self.lead_msb = self.lead_w - 1;
        self.lead_min_low = self.lead_min % (1 << self.lead_w);
        self.sub_add = u64::from(self.lead_min) + 1;
        Some(self)
    }

    /// flb_o = flb - man_bits: a normal input's exponent field as it is (no adder per lane),
    /// a subnormal's at most 0. For units that fold man_bits into their threshold instead and
    /// whose block max does not read flb (flb_o of a zero is then left undefined).
    pub fn less_man_bits(mut self) -> DecodeNumbers {
        self.flb_less_man = true;
        let modulus = 1i64 << self.flb_w;
        self.sub_add = (self.sub_add as i64 - i64::from(self.man_bits)).rem_euclid(modulus) as u64;
        self
    }

    /// The decode module's text.
    pub fn render(&self, banner: &str, name: &str, flush_subnormals: bool) -> String {
        let mut s = DecTemplate {
            banner,
            name,
            n: self,
            flush_subnormals,
        }
        .render()
        .expect("decode template renders");
        s.push('\n');
        s
    }
}

#[derive(Template)]
#[template(path = "rtl/mxq_dec.v", escape = "none")]
struct DecTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a DecodeNumbers,
    flush_subnormals: bool,
}
