//! Dot and DotGeneral against independent exact computations.

mod common;

use blockrtl::format::minifloat::Decoded;
use blockrtl::format::{ElementFormat, Formatbook, ScaleFormat};
use blockrtl::golden::dot::round_to_f32;
use blockrtl::golden::{
    Accumulation, BdConfig, BdQuantizer, BlockFormat, FracBits, MxConfig, QuantBlock, Selector,
    dot, dot_general,
};
use proptest::prelude::*;
use std::sync::Arc;

fn all_formats() -> Vec<BlockFormat> {
    let mut v: Vec<BlockFormat> = ElementFormat::ALL
        .iter()
        .map(|&f| BlockFormat::Mx(f))
        .collect();
    v.push(BlockFormat::Dialect {
        book: Arc::new(Formatbook::dialectfp4()),
        scale: ScaleFormat::E8m0,
    });
    // NVFP4 with a tensor scale of 1 (the block dot leaves tensor scales out in any case).
    v.push(BlockFormat::Nvfp4 {
        tensor_scale: 1.0f32.to_bits(),
    });
    v
}

fn quantize(fmt: &BlockFormat, xs: &[f32]) -> QuantBlock {
    let bits: Vec<u32> = xs.iter().map(|x| x.to_bits()).collect();
    match fmt {
        BlockFormat::Mx(f) => MxConfig {
            elem: *f,
            flush_subnormals: false,
            scale_rule: blockrtl::format::ScaleRule::Floor,
        }
        .quantize(&bits),
        BlockFormat::Dialect { book, scale } => BdQuantizer::new(BdConfig {
            book: book.clone(),
            selector: Selector::Mse,
            frac_bits: FracBits::Bits(2),
            scale: *scale,
            flush_subnormals: false,
        })
        .unwrap()
        .quantize(&bits),
        BlockFormat::Nvfp4 { tensor_scale } => blockrtl::golden::Nvfp4Config::given(
            blockrtl::golden::Nvfp4Rule::Exact,
            *tensor_scale,
            false,
        )
        .quantize(&bits),
    }
}

/// Element value as (signed significand, exponent) through `decode`, a different path from
/// the quanta the golden Dot uses; the dialect case goes through the table directly.
fn element(fmt: &BlockFormat, q: &QuantBlock, i: usize) -> (i128, i32) {
    let c = q.codes[i];
    match fmt {
        BlockFormat::Mx(f) => {
            let Decoded::Finite { neg, sig, exp } = f.decode(c) else {
                panic!("special")
            };
            (
                if neg {
                    -i128::from(sig)
                } else {
                    i128::from(sig)
                },
                exp + q.scale as i32 - 127,
            )
        }
        BlockFormat::Dialect { book, .. } => {
            let v = i128::from(book.dialects[usize::from(q.dialect.unwrap())][(c & 7) as usize]);
            (if c & 8 != 0 { -v } else { v }, q.scale as i32 - 127 - 1)
        }
        BlockFormat::Nvfp4 { .. } => {
            // E2M1 element times the UE4M3 scale, both through their minifloat decode.
            let Decoded::Finite { neg, sig, exp } = ElementFormat::E2m1.decode(c) else {
                panic!("special")
            };
            let Decoded::Finite {
                sig: ss, exp: se, ..
            } = blockrtl::format::minifloat::E4M3.decode(q.scale)
            else {
                panic!("NaN scale")
            };
            let v = i128::from(sig) * i128::from(ss);
            (if neg { -v } else { v }, exp + se)
        }
    }
}

/// Exact sum of products aligned to the smallest exponent, as (sum, exp).
fn exact_dot(fa: &BlockFormat, a: &QuantBlock, fb: &BlockFormat, b: &QuantBlock) -> (i128, i32) {
    let terms: Vec<(i128, i32)> = (0..a.codes.len())
        .map(|i| {
            let (x, ex) = element(fa, a, i);
            let (y, ey) = element(fb, b, i);
            (x * y, ex + ey)
        })
        .collect();
    let lo = terms.iter().map(|t| t.1).min().unwrap();
    (terms.iter().map(|&(v, e)| v << (e - lo)).sum(), lo)
}

fn same_value(a: (i128, i32), b: (i128, i32)) -> bool {
    let lo = a.1.min(b.1);
    (a.0 << (a.1 - lo)) == (b.0 << (b.1 - lo))
}

fn block() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![(-100.0f32..100.0), (-1.0e-3f32..1.0e-3), Just(0.0f32)],
        32,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Dot of any two formats (mixed included) equals the exact rational sum.
    #[test]
    fn dot_is_exact_for_every_pair(ia in 0usize..7, ib in 0usize..7, xs in block(), ys in block()) {
        let fs = all_formats();
        let (fa, fb) = (&fs[ia], &fs[ib]);
        let (a, b) = (quantize(fa, &xs), quantize(fb, &ys));
        let r = dot(fa, &a, fb, &b);
        prop_assert!(!r.nan);
        prop_assert!(same_value((r.sum, r.exp), exact_dot(fa, &a, fb, &b)));
    }

    /// RNE to FP32 equals Rust's f64 -> f32 conversion, whenever the sum fits f64 exactly.
    #[test]
    fn round_to_f32_matches_the_f64_cast(sum in -(1i128 << 52)..(1i128 << 52), exp in -200i32..120) {
        let exact = sum as f64 * common::pow2(exp);
        prop_assert_eq!(round_to_f32(sum, exp).to_bits(), (exact as f32).to_bits());
    }
}

#[test]
fn rounding_to_f32_overflows_to_inf_and_keeps_subnormals() {
    assert_eq!(round_to_f32(1, 128), f32::INFINITY);
    assert_eq!(round_to_f32(-1, 128), f32::NEG_INFINITY);
    // (2^24 - 1/2) * 2^104 is exactly halfway between FLT_MAX and 2^128: ties to even -> Inf.
    assert_eq!(round_to_f32((1 << 25) - 1, 103), f32::INFINITY);
    assert_eq!(round_to_f32((1 << 24) - 1, 104), f32::MAX);
    // Above FLT_MAX by a quarter ulp: rounds down to FLT_MAX (overflow is decided after
    // rounding). The golden model used to call this infinity while the RTL, which rounds
    // first, gave FLT_MAX.
    assert_eq!(round_to_f32((1 << 26) - 3, 102), f32::MAX);
    assert_eq!(round_to_f32(-((1 << 26) - 3), 102), -f32::MAX);
    assert_eq!(round_to_f32(3, -150).to_bits(), 2); // 1.5 * 2^-149 ties to even 2 * 2^-149
    assert_eq!(round_to_f32(1, -150).to_bits(), 0); // 0.5 * 2^-149 ties to even 0
    // Huge 127-bit sums keep the sticky bit: 2^100 + 1 rounds to 2^100 exactly.
    assert_eq!(round_to_f32((1i128 << 100) + 1, 0), 2f32.powi(100));
}

#[test]
fn nan_scales_poison_dot_and_dot_general() {
    let f = BlockFormat::Mx(ElementFormat::E2m1);
    let good = quantize(&f, &[1.0; 32]);
    let mut bad_in = [1.0f32; 32];
    bad_in[3] = f32::NAN;
    let bad = quantize(&f, &bad_in);
    assert!(dot(&f, &good, &f, &bad).nan);
    assert!(dot(&f, &bad, &f, &good).nan);
    let acc = Accumulation::Fp32 { interleave: 1 };
    assert!(dot_general(&f, &[good.clone(), bad], &f, &[good.clone(), good], acc).is_nan());
}

/// Worked example: E2M1 x E2M1 with all elements 6 at scale 1: 32 * 36 = 1152.
#[test]
fn dot_general_worked_examples() {
    let f = BlockFormat::Mx(ElementFormat::E2m1);
    let six = quantize(&f, &[6.0; 32]);
    let r = dot(&f, &six, &f, &six);
    assert_eq!(r.sum as f64 * common::pow2(r.exp), 1152.0);
    // The k=32 E2M1 x E2M1 sum fits 14 bits signed in units of 1/4, as numerics.md says.
    assert_eq!(r.exp, -2);
    assert!(r.sum.unsigned_abs() < 1 << 13);
    // Cancellation: +x then -x in sequence gives exactly 0; with interleave 2 they land in
    // separate partials and still cancel at the merge.
    let neg = quantize(&f, &[-6.0; 32]);
    for interleave in [1, 2, 7] {
        let acc = Accumulation::Fp32 { interleave };
        let v = dot_general(
            &f,
            &[six.clone(), six.clone()],
            &f,
            &[six.clone(), neg.clone()],
            acc,
        );
        assert_eq!(v, 0.0);
    }
    // Order is the documented one: FP32 adds in block order, so 2^24 + 2^-10 + 2^-10 stays
    // 2^24 (each small term is below half an ulp), where an exact sum would not.
    let i8f = BlockFormat::Mx(ElementFormat::Int8);
    let ones = quantize(&i8f, &[1.0; 32]);
    let big = quantize(&i8f, &[262_144.0; 32]); // 32 * 1 * 2^18 = 2^23 per block
    let mut tiny_in = [0.0f32; 32];
    tiny_in[0] = 0.03125; // 2^-5, squared 2^-10
    let tiny = quantize(&i8f, &tiny_in);
    let seq = dot_general(
        &i8f,
        &[ones.clone(), ones.clone(), tiny.clone(), tiny.clone()],
        &i8f,
        &[big.clone(), big.clone(), tiny.clone(), tiny.clone()],
        Accumulation::Fp32 { interleave: 1 },
    );
    assert_eq!(seq, 16_777_216.0);
}
