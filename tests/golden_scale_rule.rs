//! The `rceil` scale rule (numerics.md 3.1) against `floor`, checked with f64 arithmetic
//! written here (exact for FP32 inputs): the scaled block maximum never exceeds the element
//! maximum, rceil's exponent is floor's or floor's + 1, and exactly the blocks whose maximum's
//! significand exceeds the element maximum's get the + 1.

use blockrtl::format::{ElementFormat, ScaleRule};
use blockrtl::golden::{BlockFormat, MxConfig};
use proptest::prelude::*;

fn cfg(elem: ElementFormat, scale_rule: ScaleRule) -> MxConfig {
    MxConfig {
        elem,
        flush_subnormals: false,
        scale_rule,
    }
}

/// The largest finite element value, from the format table.
fn max_elem(f: ElementFormat) -> f64 {
    match f {
        ElementFormat::E4m3 => 448.0,
        ElementFormat::E5m2 => 57344.0,
        ElementFormat::E3m2 => 28.0,
        ElementFormat::E2m3 => 7.5,
        ElementFormat::E2m1 => 6.0,
        ElementFormat::Int8 => 127.0 / 64.0,
    }
}

/// emax_elem of numerics.md section 2.
fn emax(f: ElementFormat) -> i32 {
    match f {
        ElementFormat::E4m3 => 8,
        ElementFormat::E5m2 => 15,
        ElementFormat::E3m2 => 4,
        ElementFormat::E2m3 | ElementFormat::E2m1 => 2,
        ElementFormat::Int8 => 0,
    }
}

/// floor(log2 x) for x > 0, by walking powers of two.
fn floor_log2(x: f64) -> i32 {
    let mut e = 0;
    while 2f64.powi(e + 1) <= x {
        e += 1;
    }
    while 2f64.powi(e) > x {
        e -= 1;
    }
    e
}

/// x / 2^floor(log2 x), in [1, 2).
fn significand(mut x: f64) -> f64 {
    while x >= 2.0 {
        x /= 2.0;
    }
    while x < 1.0 {
        x *= 2.0;
    }
    x
}

fn finite_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<u32>().prop_map(|b| f32::from_bits(b & 0xff7f_ffff)),
        (-1.0e3f32..1.0e3f32),
        // Maxima on and around the element maxima's significands, the case that differs.
        (0u32..6, -20i32..20, 0u32..3).prop_map(|(f, e, d)| {
            let m = max_elem(ElementFormat::ALL[f as usize]);
            let x = (significand(m) * 2f64.powi(e)) as f32;
            f32::from_bits(x.to_bits() + d - 1)
        }),
    ]
}

fn format() -> impl Strategy<Value = ElementFormat> {
    prop::sample::select(ElementFormat::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn rceil_is_floor_or_one_more_exactly_when_the_significand_exceeds(
        f in format(),
        xs in prop::collection::vec(finite_f32(), 1..33),
    ) {
        let bits: Vec<u32> = xs.iter().map(|x| x.to_bits()).collect();
        let floor = cfg(f, ScaleRule::Floor).quantize(&bits);
        let rceil = cfg(f, ScaleRule::Rceil).quantize(&bits);
        let amax = xs.iter().map(|x| f64::from(x.abs())).fold(0.0, f64::max);
        if amax == 0.0 {
            prop_assert_eq!(rceil.scale, floor.scale);
            return Ok(());
        }
        // Both rules clamp to the E8M0 range after choosing the exponent.
        let e = floor_log2(amax) - emax(f);
        let up = significand(amax) > significand(max_elem(f));
        let code = |e: i32| (e.clamp(-127, 127) + 127) as u32;
        prop_assert_eq!(floor.scale, code(e), "amax {}", amax);
        prop_assert_eq!(rceil.scale, code(e + i32::from(up)), "amax {}", amax);
        // The scaled maximum fits unless the scale is pinned at 2^127 (or 2^-127, where the
        // shared exponent cannot go lower and tiny maxima scale up).
        let scaled = amax / 2f64.powi(rceil.scale as i32 - 127);
        if rceil.scale < 254 {
            prop_assert!(scaled <= max_elem(f), "{} > {}", scaled, max_elem(f));
            prop_assert_eq!(rceil.saturated, 0);
        }
    }

        /// Quantizing a dequantized block again gives the same values, under each rule.
    #[test]
    fn idempotent_per_rule(
        f in format(),
        rule in prop::sample::select(ScaleRule::ALL.to_vec()),
        xs in prop::collection::vec(finite_f32(), 1..33),
    ) {
        let c = cfg(f, rule);
        let fmt = BlockFormat::Mx(f);
        let bits: Vec<u32> = xs.iter().map(|x| x.to_bits()).collect();
        let q = c.quantize(&bits);
        // An element rounded up near FLT_MAX can dequantize past FP32's range (2^128 under
        // rceil for E5M2): such a block has no FP32 form to quantize again.
        prop_assume!(fmt.dequantize(&q).iter().all(|&v| (v as f32).is_finite()));
        let deq: Vec<u32> = fmt.dequantize(&q).iter().map(|&v| (v as f32).to_bits()).collect();
        let q2 = c.quantize(&deq);
        prop_assert_eq!(fmt.dequantize(&q2), fmt.dequantize(&q));
    }
}

/// Worked examples: E2M1 with block max 7 (in (6, 8)): floor scales by 1 and clips 7 to 6;
/// rceil scales by 2 (7/2 = 3.5 rounds to 4, ties to even). Max exactly 6: both scale by 1.
#[test]
fn worked_examples() {
    let b = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let f = cfg(ElementFormat::E2m1, ScaleRule::Floor).quantize(&b(&[7.0, 1.0]));
    let r = cfg(ElementFormat::E2m1, ScaleRule::Rceil).quantize(&b(&[7.0, 1.0]));
    assert_eq!(
        (f.scale, f.codes.clone(), f.saturated),
        (127, vec![0x7, 0x2], 1)
    );
    assert_eq!(
        (r.scale, r.codes.clone(), r.saturated),
        (128, vec![0x6, 0x1], 0)
    );
    let f = cfg(ElementFormat::E2m1, ScaleRule::Rceil).quantize(&b(&[6.0]));
    assert_eq!(f.scale, 127);
    // INT8 at the top of FP32: rceil would need 2^128 and stays at 2^127 (saturating).
    let big = cfg(ElementFormat::Int8, ScaleRule::Rceil).quantize(&b(&[f32::MAX]));
    assert_eq!((big.scale, big.codes[0]), (254, 127));
}
