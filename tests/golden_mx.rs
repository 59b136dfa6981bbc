//! MX block conversion: every numerics.md section 6 edge case for every element format, checked
//! against an independent brute-force oracle, plus proptests.

mod common;

use blockrtl::format::{ElementFormat, InputFormat};
use blockrtl::golden::{BlockFormat, MxConfig};
use common::{normal, oracle_mx, rng};
use proptest::prelude::*;

fn quantize(f: ElementFormat, xs: &[f32]) -> blockrtl::golden::QuantBlock {
    let bits: Vec<u32> = xs.iter().map(|x| x.to_bits()).collect();
    MxConfig {
        elem: f,
        flush_subnormals: false,
        scale_rule: blockrtl::format::ScaleRule::Floor,
    }
    .quantize(&bits)
}

fn check_against_oracle(f: ElementFormat, xs: &[f32], why: &str) {
    let q = quantize(f, xs);
    let (scale, codes) = oracle_mx(f, xs);
    assert_eq!(q.scale, scale, "{f}: scale for {why}: {xs:?}");
    assert_eq!(q.codes, codes, "{f}: codes for {why}: {xs:?}");
}

/// Blocks built to hit each section 6 case, with the reason each matters.
fn edge_blocks() -> Vec<(&'static str, Vec<f32>)> {
    let sub = f32::from_bits(1); // 2^-149, the smallest FP32 subnormal
    let mut v = vec![
        // Scale byte 0x00, and each code the zero of its input's sign (numerics.md 3 item 2).
        ("all zero", vec![0.0; 32]),
        ("all negative zero", vec![-0.0; 32]),
        ("mixed signed zeros", vec![0.0, -0.0, -0.0, 0.0]),
        // Sign of zero kept per element once the block is nonzero.
        ("signed zeros beside a value", vec![-0.0, 0.0, 1.0, -0.0]),
        // Subnormal block max: floor(log2) comes from the leading one of the fraction.
        (
            "fp32 subnormals only",
            vec![sub, -f32::from_bits(0x0040_0000), f32::from_bits(3)],
        ),
        // Shared exponent would be below -127: clamps, and small elements flush to zero.
        (
            "scale clamp at 2^-127",
            vec![f32::from_bits(0x0000_0100), sub, -sub],
        ),
        // Largest finite inputs: shared exponent near the top, no overflow in the shift.
        (
            "near FLT_MAX",
            vec![f32::MAX, -f32::MAX, 1.0, f32::MAX / 3.0],
        ),
        // One outlier sets the scale and pushes everything else to zero or subnormals.
        ("one huge outlier", vec![1e30, 1.0, -2.5, 1e-3, 0.75]),
        // Block max with an all-ones mantissa sits in the saturation band of every format.
        (
            "all-ones mantissa max",
            vec![f32::from_bits(0x3fff_ffff), 1.0, -1.75],
        ),
        (
            "negative all-ones mantissa max",
            vec![-f32::from_bits(0x3fff_ffff), 0.3],
        ),
        // Exact powers of two: max lands exactly on 2^emax.
        ("power of two max", vec![4.0, 2.0, 1.0, 0.5, -0.25]),
        // BF16-exact inputs: only 8 significant bits.
        (
            "bf16-exact",
            [0x3f80u32, 0xc0a0, 0x3e4d, 0x4180]
                .map(|h| f32::from_bits(h << 16))
                .to_vec(),
        ),
        // FP16 subnormals (2^-24 .. 2^-15) after widening.
        (
            "fp16 subnormals",
            [1u32, 2, 0x3ff, 0x200]
                .map(|h| f32::from_bits(InputFormat::F16.widen(h)))
                .to_vec(),
        ),
    ];
    // Ties and +-1 ulp around them, in the top binade of every format: after scaling by the
    // shared exponent chosen by the max 1.0 (binade 0), element values are x * 2^emax.
    let mut ties = vec![1.0f32];
    for m in [1.0625f32, 1.125, 1.1875, 1.25, 1.375, 1.625, 1.875, 1.9375] {
        ties.extend([
            m,
            f32::from_bits(m.to_bits() - 1),
            f32::from_bits(m.to_bits() + 1),
        ]);
    }
    v.push((
        "ties and neighbours in the top binade",
        ties.iter().map(|x| x * 0.999_999_9).collect(),
    ));
    v.push(("ties and neighbours", ties));
    v
}

#[test]
fn edge_cases_match_the_oracle_for_every_format() {
    for f in ElementFormat::ALL {
        for (why, xs) in edge_blocks() {
            check_against_oracle(f, &xs, why);
        }
    }
}

#[test]
fn nan_or_inf_anywhere_gives_a_nan_block() {
    for f in ElementFormat::ALL {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for pos in [0, 7, 31] {
                let mut xs = vec![1.5f32; 32];
                xs[pos] = bad;
                let q = quantize(f, &xs);
                assert!(q.nan, "{f} {bad} at {pos}");
                assert_eq!(q.scale, 0xff, "NaN scale byte");
                assert!(
                    q.codes.iter().all(|&c| c == 0),
                    "codes are 0 in a NaN block"
                );
            }
        }
    }
}

/// Specific values worked by hand from numerics.md, so the oracle is checked too.
#[test]
fn hand_worked_examples() {
    // amax = 6 -> floor(log2 6) = 2, emax(E2M1) = 2 -> shared exp 0 -> byte 127; 6 -> 0b0111.
    let q = quantize(ElementFormat::E2m1, &[6.0, -0.5, 0.25, 0.75]);
    assert_eq!(q.scale, 127);
    // 0.25 is the tie between 0 and 0.5: even (0). 0.75 ties 0.5/1.0: even mantissa is 1.0.
    assert_eq!(q.codes, vec![0b0111, 0b1001, 0b0000, 0b0010]);
    // amax = 7 (binade 2): 7 sits between 6 and 8: rounds to 8 (tie to even), saturates to 6.
    let q = quantize(ElementFormat::E2m1, &[7.0]);
    assert_eq!((q.scale, q.codes[0], q.saturated), (127, 0b0111, 1));
    // INT8: amax 1.0 -> shared 0; 1.0 * 64 = 64 -> code 64; -1/128 * 64 = -0.5 -> tie to 0.
    let q = quantize(ElementFormat::Int8, &[1.0, -1.0 / 128.0, -1.0]);
    assert_eq!(q.codes, vec![64, 0, 0xc0]);
    // INT8: a max just below 2 rounds 64*1.999 = 127.9 -> 128 -> clamps to 127.
    let q = quantize(ElementFormat::Int8, &[1.999]);
    assert_eq!(q.codes, vec![127]);
    // E4M3: 448 is max; 464 is the tie between 448 and 480 (480 is the NaN code's slot).
    let q = quantize(ElementFormat::E4m3, &[464.0, 256.0]);
    assert_eq!((q.scale, q.codes[0]), (127, 0x7e));
}

/// An all-zero block of mixed +0.0 / -0.0 gives the matching zero codes in every FP format,
/// written out here (not through the oracle); INT8 has one zero.
#[test]
fn all_zero_blocks_keep_each_sign() {
    let block: Vec<u32> = [0.0f32, -0.0, -0.0, 0.0]
        .iter()
        .map(|x| x.to_bits())
        .collect();
    for f in ElementFormat::ALL {
        let q = MxConfig {
            elem: f,
            flush_subnormals: false,
            scale_rule: blockrtl::format::ScaleRule::Floor,
        }
        .quantize(&block);
        let neg = if f == ElementFormat::Int8 {
            0
        } else {
            1 << (f.bits() - 1)
        };
        assert_eq!((q.scale, q.codes), (0, vec![0, neg, neg, 0]), "{f}");
    }
}

/// Flushing zeroes subnormal inputs (keeping the sign) before the block max is taken.
#[test]
fn flush_subnormals_zeroes_them_first() {
    let sub = f32::from_bits(0x0000_0100);
    let bits = [sub.to_bits(), (-sub).to_bits()];
    let cfg = MxConfig {
        elem: ElementFormat::E4m3,
        flush_subnormals: true,
        scale_rule: blockrtl::format::ScaleRule::Floor,
    };
    let q = cfg.quantize(&bits);
    assert_eq!(
        (q.scale, q.codes.clone()),
        (0, vec![0, 0x80]),
        "a block of flushed subnormals is all zero, signs kept"
    );
    let q = cfg.quantize(&[sub.to_bits(), 1.0f32.to_bits()]);
    assert_eq!(q.codes[0], 0);
}

fn finite_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<u32>().prop_map(|b| f32::from_bits(b & 0xff7f_ffff)), // any finite bit pattern
        (-1.0e3f32..1.0e3f32),
        Just(0.0f32),
    ]
}

fn element_format() -> impl Strategy<Value = ElementFormat> {
    prop::sample::select(ElementFormat::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The integer implementation equals the brute-force oracle on arbitrary finite blocks.
    #[test]
    fn matches_oracle(f in element_format(), xs in prop::collection::vec(finite_f32(), 1..40)) {
        let q = quantize(f, &xs);
        let (scale, codes) = oracle_mx(f, &xs);
        prop_assert_eq!(q.scale, scale);
        prop_assert_eq!(q.codes, codes);
    }

    /// Quantizing the dequantized block gives back the same values.
    #[test]
    fn idempotent_on_its_own_output(f in element_format(), xs in prop::collection::vec(finite_f32(), 1..40)) {
        let fmt = BlockFormat::Mx(f);
        let q = quantize(f, &xs);
        let deq: Vec<f32> = fmt.dequantize(&q).iter().map(|&v| v as f32).collect();
        let q2 = quantize(f, &deq);
        prop_assert_eq!(fmt.dequantize(&q2), fmt.dequantize(&q));
        prop_assert_eq!(q2.scale, q.scale);
    }

    /// Error bound: within half a step of the element grid at the value's binade, unless
    /// the element saturated (then it is the format's max with the right sign).
    #[test]
    fn error_is_at_most_half_a_step(f in element_format(), xs in prop::collection::vec(finite_f32(), 1..40)) {
        let fmt = BlockFormat::Mx(f);
        let q = quantize(f, &xs);
        let deq = fmt.dequantize(&q);
        let shared = q.scale as i32 - 127;
        let max = common::ladder(f).last().unwrap().1 * common::pow2(shared);
        for (&x, &y) in xs.iter().zip(&deq) {
            let x = f64::from(x);
            if x.abs() > max {
                prop_assert_eq!(y.abs(), max);
                continue;
            }
            let step = match f.minifloat() {
                Some(mf) => {
                    let b = if x == 0.0 { mf.emin() - 1 } else { common::floor_log2(x.abs() / common::pow2(shared)) };
                    common::pow2(b.max(mf.emin()) - mf.mbits as i32 + shared)
                }
                None => common::pow2(shared - 6),
            };
            prop_assert!((x - y).abs() <= step / 2.0, "x={x} y={y} step={step}");
        }
    }
}

/// A million random normal elements agree with the oracle: broad coverage beyond proptest.
#[test]
fn random_normal_blocks_match_the_oracle() {
    let mut r = rng(7);
    for f in ElementFormat::ALL {
        for _ in 0..300 {
            let scale = common::pow2((normal(&mut r) * 20.0) as i32);
            let xs: Vec<f32> = (0..32).map(|_| (normal(&mut r) * scale) as f32).collect();
            check_against_oracle(f, &xs, "normal");
        }
    }
}
