//! BlockDialect quantization: selectors against brute force, every dialect, edge cases.

mod common;

use blockrtl::format::{Formatbook, ScaleFormat};
use blockrtl::golden::{BdConfig, BdQuantizer, BlockFormat, FracBits, Selector};
use common::{normal, rng};
use proptest::prelude::*;
use std::sync::Arc;

fn quantizer(selector: Selector, frac: FracBits) -> BdQuantizer {
    BdQuantizer::new(BdConfig {
        book: Arc::new(Formatbook::dialectfp4()),
        selector,
        frac_bits: frac,
        scale: ScaleFormat::E8m0,
        flush_subnormals: false,
    })
    .unwrap()
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// Brute force: squared error of every dialect in f64 from the truncated magnitudes, nearest
/// value by scanning (ties to the larger), least total error, ties to the lower id.
fn brute_force_mse(book: &Formatbook, ms: &[f64]) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (d, vals) in book.dialects.iter().enumerate() {
        let err: f64 = ms
            .iter()
            .map(|&m| {
                let mut q = 0.0f64;
                for &v in vals {
                    let v = f64::from(v) / 2.0;
                    if (m - v).abs() <= (m - q).abs() {
                        q = v; // ascending scan with <=: ties go to the larger value
                    }
                }
                (m - q) * (m - q)
            })
            .sum();
        if err < best.0 {
            best = (err, d);
        }
    }
    best.1
}

/// Scaled magnitudes the way numerics.md defines them, with f64 (exact here).
fn scaled(xs: &[f32], frac: u32) -> (i32, Vec<f64>) {
    let amax = xs.iter().map(|x| f64::from(x.abs())).fold(0.0, f64::max);
    let e = (common::floor_log2(amax) - 2).max(-127);
    let ms = xs
        .iter()
        .map(|&x| {
            let m = f64::from(x.abs()) / common::pow2(e);
            ((m * common::pow2(frac as i32)).floor() / common::pow2(frac as i32))
                .min(8.0 - common::pow2(-(frac as i32)))
        })
        .collect();
    (e, ms)
}

fn random_block(r: &mut rand_pcg::Pcg64, k: usize) -> Vec<f32> {
    let heavy = normal(r).abs() * 3.0;
    (0..k)
        .map(|_| {
            let x = normal(r);
            (x * (1.0 + heavy * x.abs())) as f32
        })
        .collect()
}

#[test]
fn mse_selector_is_optimal_on_random_blocks() {
    let book = Formatbook::dialectfp4();
    // 2, 4 and 8 fraction bits select from precomputed error tables (8 is the largest that
    // has them), 9 and exact by the direct sums.
    for frac in [
        FracBits::Bits(2),
        FracBits::Bits(4),
        FracBits::Bits(8),
        FracBits::Bits(9),
        FracBits::Exact,
    ] {
        let q = quantizer(Selector::Mse, frac);
        let mut r = rng(11);
        for _ in 0..2000 {
            let xs = random_block(&mut r, 32);
            let block = q.quantize(&bits(&xs));
            let (_, ms) = scaled(&xs, q.frac_bits());
            assert_eq!(
                usize::from(block.dialect.unwrap()),
                brute_force_mse(&book, &ms),
                "{xs:?}"
            );
        }
    }
}

/// Stage 1 names pair 15 - floor(2 * m_max); stage 2 then picks a member of that pair.
#[test]
fn two_stage_picks_a_member_of_the_stage1_pair() {
    let q = quantizer(Selector::TwoStage, FracBits::Bits(2));
    let mut r = rng(12);
    for _ in 0..5000 {
        let xs = random_block(&mut r, 32);
        let block = q.quantize(&bits(&xs));
        let (_, ms) = scaled(&xs, 2);
        let m_max = ms.iter().copied().fold(0.0, f64::max);
        let pair = (15 - (2.0 * m_max).floor() as i64).clamp(0, 7) as u8;
        assert_eq!(block.dialect.unwrap() / 2, pair, "{xs:?}");
    }
}

/// Stage 2 counts elements in each member's beneficial range: hand-built blocks.
#[test]
fn two_stage_counts_beneficial_ranges() {
    let q = quantizer(Selector::TwoStage, FracBits::Bits(2));
    // Max 7.5 -> pair 0: dialect 0 owns [5, 6.5) (value 5.5), dialect 1 owns [3.75, 5) (4.5).
    // Two elements at 5.5 vs one at 4.5: dialect 0.
    let b = q.quantize(&bits(&[7.5, 5.5, 5.5, 4.5]));
    assert_eq!(b.dialect, Some(0));
    // One at 5.5 vs two at 4.5: dialect 1.
    let b = q.quantize(&bits(&[7.5, 5.5, 4.5, 4.5]));
    assert_eq!(b.dialect, Some(1));
    // A tie goes to the even member.
    let b = q.quantize(&bits(&[7.5, 5.5, 4.5]));
    assert_eq!(b.dialect, Some(0));
    // Range edges: 3.75 (lower edge of 4.5's range, inclusive) and 5.0 (exclusive) count for 1
    // and 0 respectively: one each, tie -> 0. Then 3.5 is outside every range: still a tie.
    let b = q.quantize(&bits(&[7.5, 3.75, 5.0]));
    assert_eq!(b.dialect, Some(0));
    let b = q.quantize(&bits(&[7.5, 3.75, 3.75, 5.0]));
    assert_eq!(b.dialect, Some(1));
    // Max 4.0 -> floor(2*4) = 8 -> pair 7: dialect 14 owns [3.25, 3.75) (3.5), 15 owns [2.25, 2.75).
    let b = q.quantize(&bits(&[4.0, 2.5, 2.5, 3.5]));
    assert_eq!(b.dialect, Some(15));
}

/// Every dialect is reachable by each selector: build a block aimed at each one.
#[test]
fn every_dialect_is_chosen_by_each_selector() {
    let book = Formatbook::dialectfp4();
    for sel in [Selector::Mse, Selector::TwoStage] {
        let q = quantizer(sel, FracBits::Bits(2));
        let mut seen = [false; 16];
        for (d, vals) in book.dialects.iter().enumerate() {
            // The block is the dialect's own values, with its max, and its unique value repeated.
            let mut xs: Vec<f32> = vals.iter().map(|&v| f32::from(v) / 2.0).collect();
            xs.extend([f32::from(vals[6]) / 2.0; 4]);
            if d == 14 || d == 15 {
                xs.extend([f32::from(vals[5]) / 2.0; 4]);
            }
            let b = q.quantize(&bits(&xs));
            seen[usize::from(b.dialect.unwrap())] = true;
            // The block's own values are exactly representable: dequantization returns them.
            let fmt = BlockFormat::Dialect {
                book: Arc::new(book.clone()),
                scale: ScaleFormat::E8m0,
            };
            if usize::from(b.dialect.unwrap()) == d {
                let deq = fmt.dequantize(&b);
                assert!(
                    deq.iter().zip(&xs).all(|(a, &b)| *a == f64::from(b)),
                    "{sel} d{d}"
                );
            }
        }
        assert!(seen.iter().all(|&s| s), "{sel}: chosen {seen:?}");
    }
}

/// Rounding: ties go to the larger magnitude; saturation at the dialect max; sign kept on 0.
#[test]
fn element_rounding_rules() {
    let q = quantizer(Selector::Mse, FracBits::Bits(2));
    // Dialect 7 (FP4): values 0 .5 1 1.5 2 3 4 6. Block max 6 -> e = 0.
    // 0.25 ties 0/0.5 -> 0.5 (larger); 2.5 ties 2/3 -> 3; 5 ties 4/6 -> 6; -0.1 -> -0 code.
    for d in 0..16 {
        assert!(q.round_index(d, 0) == 0);
    }
    assert_eq!(q.round_index(7, 1), 1); // 0.25 -> idx1 (0.5)
    assert_eq!(q.round_index(7, 10), 5); // 2.5 -> idx5 (3)
    assert_eq!(q.round_index(7, 20), 7); // 5.0 -> idx7 (6)
    assert_eq!(q.round_index(7, 31), 7); // 7.75 saturates at 6
    let b = q.quantize(&bits(&[6.0, -0.1, -2.0]));
    assert_eq!(
        b.codes[1], 0b1000,
        "a negative that rounds to zero keeps its sign"
    );
    assert_eq!(b.codes[2], 0b1100);
}

/// Truncation to F fraction bits: 2.49 truncates to 2.25 (F=2) and rounds to 2, where the
/// exact path would also give 2; 2.5 - 1 ulp truncates to 2.25 but exact gives 2 too. F=0
/// truncates 0.9 to 0 while exact rounds it to 1.
#[test]
fn fraction_bits_truncate() {
    let f0 = quantizer(Selector::Mse, FracBits::Bits(0));
    let exact = quantizer(Selector::Mse, FracBits::Exact);
    let xs = bits(&[6.0, 0.9]);
    assert_eq!(f0.scaled_magnitude(xs[1], 0), 0);
    assert_eq!(exact.scaled_magnitude(xs[1], 0) >> 25, 0);
    let d = 7;
    assert_eq!(f0.round_index(d, 0), 0);
    assert_eq!(exact.round_index(d, exact.scaled_magnitude(xs[1], 0)), 2);
}

#[test]
fn zero_nan_and_clamped_blocks() {
    for sel in [Selector::Mse, Selector::TwoStage] {
        let q = quantizer(sel, FracBits::Bits(2));
        // An all-zero block keeps each zero's sign (numerics.md 3 item 2, in every block).
        let z = q.quantize(&bits(&[0.0, -0.0, 0.0]));
        assert_eq!(
            (z.scale, z.codes.clone(), z.nan),
            (0, vec![0, 8, 0], false),
            "{sel}"
        );
        let n = q.quantize(&bits(&[1.0, f32::NAN]));
        assert_eq!((n.scale, n.nan), (0xff, true));
        let i = q.quantize(&bits(&[f32::NEG_INFINITY, 1.0]));
        assert_eq!((i.scale, i.nan), (0xff, true));
        // Tiny block: e would be below -127 and clamps; elements become 0.
        let t = q.quantize(&bits(&[f32::from_bits(1), -f32::from_bits(2)]));
        assert_eq!(t.scale, 0);
        assert_eq!(t.codes, vec![0, 8]);
        // Near FLT_MAX: e = 125, block max in [4, 8).
        let m = q.quantize(&bits(&[f32::MAX, 1.0]));
        assert_eq!(m.scale, 127 + 125);
    }
}

/// The 5-bit scale clamps at +-15: a block of 2^20 saturates every element at the dialect max.
#[test]
fn e5_scale_clamps_and_saturates() {
    let q = BdQuantizer::new(BdConfig {
        book: Arc::new(Formatbook::dialectfp4()),
        selector: Selector::Mse,
        frac_bits: FracBits::Bits(2),
        scale: ScaleFormat::E5,
        flush_subnormals: false,
    })
    .unwrap();
    let b = q.quantize(&bits(&[1_048_576.0, 1.0]));
    assert_eq!(b.scale, 30); // exponent 15
    assert_eq!(b.codes[0] & 7, 7);
    assert_eq!(b.saturated, 1);
    let n = q.quantize(&bits(&[f32::NAN]));
    assert_eq!(n.scale, 31);
}

/// A custom 2-dialect book ("max 6 or max 4") works with mse and is refused by two-stage.
#[test]
fn custom_books_work_without_code_changes() {
    let book = Formatbook::parse(
        "name = \"six-or-four\"\nunit = \"half\"\n[[dialect]]\nvalues = [0,1,2,3,4,6,8,12]\n[[dialect]]\nvalues = [0,1,2,3,4,5,6,8]\n",
        "test",
    )
    .unwrap();
    let cfg = |selector| BdConfig {
        book: Arc::new(book.clone()),
        selector,
        frac_bits: FracBits::Bits(2),
        scale: ScaleFormat::E8m0,
        flush_subnormals: false,
    };
    let q = BdQuantizer::new(cfg(Selector::Mse)).unwrap();
    assert_eq!(q.quantize(&bits(&[4.0, 2.5, 2.5])).dialect, Some(1));
    assert_eq!(q.quantize(&bits(&[6.0, 3.0])).dialect, Some(0));
    let err = BdQuantizer::new(cfg(Selector::TwoStage)).unwrap_err();
    assert!(err.to_string().contains("share their maximum"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Both selectors: dequantize then quantize again returns the same values.
    #[test]
    fn idempotent_on_its_own_output(xs in prop::collection::vec(-1.0e4f32..1.0e4f32, 1..40), two in any::<bool>()) {
        let sel = if two { Selector::TwoStage } else { Selector::Mse };
        let q = quantizer(sel, FracBits::Bits(2));
        let fmt = BlockFormat::Dialect { book: Arc::new(Formatbook::dialectfp4()), scale: ScaleFormat::E8m0 };
        let b = q.quantize(&bits(&xs));
        let deq: Vec<f32> = fmt.dequantize(&b).iter().map(|&v| v as f32).collect();
        let b2 = q.quantize(&bits(&deq));
        prop_assert_eq!(fmt.dequantize(&b2), fmt.dequantize(&b));
    }

    /// Error bound: each element is within half the largest gap of its dialect (times the
    /// scale) plus the truncation step, or it saturated at the max.
    #[test]
    fn error_is_bounded(xs in prop::collection::vec(-1.0e4f32..1.0e4f32, 1..40)) {
        let q = quantizer(Selector::Mse, FracBits::Exact);
        let book = Formatbook::dialectfp4();
        let fmt = BlockFormat::Dialect { book: Arc::new(book.clone()), scale: ScaleFormat::E8m0 };
        let b = q.quantize(&bits(&xs));
        let vals = book.dialects[usize::from(b.dialect.unwrap())];
        let gap = vals.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        let e = b.scale as i32 - 127;
        let deq = fmt.dequantize(&b);
        for (&x, &y) in xs.iter().zip(&deq) {
            let bound = f64::from(gap) / 4.0 * common::pow2(e);
            let max = f64::from(vals[7]) / 2.0 * common::pow2(e);
            prop_assert!((f64::from(x) - y).abs() <= bound || y.abs() == max, "x={x} y={y}");
        }
    }
}
