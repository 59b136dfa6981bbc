//! Exhaustive tests of the element formats: every code, every midpoint, +-1 FP32 ulp around it.
//! The oracle here is a brute-force nearest search over the decoded value list, built with f64
//! (exact for these formats), independent of the integer rounding code under test.

use blockrtl::format::ElementFormat;
use blockrtl::format::exact::{F32Class, classify_f32};
use blockrtl::format::minifloat::Decoded;

/// Every finite code of a format with its exact value, in f64.
fn finite_codes(f: ElementFormat) -> Vec<(u32, f64)> {
    (0..1u32 << f.bits())
        .filter_map(|c| match f.decode(c) {
            Decoded::Finite { neg, sig, exp } => {
                let v = f64::from(sig) * 2f64.powi(exp);
                Some((c, if neg { -v } else { v }))
            }
            _ => None,
        })
        .collect()
}

fn encode_f32(f: ElementFormat, x: f32) -> u32 {
    match classify_f32(x.to_bits()) {
        F32Class::Finite(d) => f.encode(d.neg, u64::from(d.mant), d.exp).code,
        F32Class::Zero { neg } => f.encode(neg, 0, 0).code,
        other => panic!("not finite: {other:?}"),
    }
}

/// The representable non-negative magnitudes, ascending, each with its code.
fn ladder(f: ElementFormat) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = finite_codes(f)
        .into_iter()
        .filter(|&(c, x)| x > 0.0 || (x == 0.0 && c == 0))
        .collect();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap());
    v
}

#[test]
fn every_code_decodes_and_reencodes_to_itself() {
    for f in ElementFormat::ALL {
        let mut finite = 0;
        for (code, _) in finite_codes(f) {
            finite += 1;
            if f == ElementFormat::Int8 && code == 0x80 {
                continue; // -128 decodes but is never produced: it re-encodes to -127
            }
            let Decoded::Finite { neg, sig, exp } = f.decode(code) else {
                unreachable!()
            };
            let back = f.encode(neg, u64::from(sig), exp);
            assert_eq!(back.code, code, "{f} code {code:#x}");
            assert!(!back.saturated, "{f} code {code:#x} is representable");
        }
        // Code counts per format: specials are excluded, INT8 keeps all 256 (-128 decodes).
        let expected = match f {
            ElementFormat::E4m3 => 254,     // two NaN codes
            ElementFormat::E5m2 => 256 - 8, // +-Inf and six NaNs
            ElementFormat::Int8 => 256,
            _ => 1 << f.bits(),
        };
        assert_eq!(finite, expected, "{f}");
    }
}

#[test]
fn max_values_match_the_ocp_table() {
    let max = |f: ElementFormat| ladder(f).last().unwrap().1;
    assert_eq!(max(ElementFormat::E4m3), 448.0);
    assert_eq!(max(ElementFormat::E5m2), 57344.0);
    assert_eq!(max(ElementFormat::E3m2), 28.0);
    assert_eq!(max(ElementFormat::E2m3), 7.5);
    assert_eq!(max(ElementFormat::E2m1), 6.0);
    assert_eq!(max(ElementFormat::Int8), 127.0 / 64.0);
    // Smallest subnormals: 2^-9, 2^-16, 0.0625, 0.125, 0.5; INT8 steps of 2^-6.
    let min = |f: ElementFormat| ladder(f)[1].1;
    assert_eq!(min(ElementFormat::E4m3), 2f64.powi(-9));
    assert_eq!(min(ElementFormat::E5m2), 2f64.powi(-16));
    assert_eq!(min(ElementFormat::E3m2), 0.0625);
    assert_eq!(min(ElementFormat::E2m3), 0.125);
    assert_eq!(min(ElementFormat::E2m1), 0.5);
    assert_eq!(min(ElementFormat::Int8), 2f64.powi(-6));
    // emax_elem from the numerics.md table.
    let emax: Vec<i32> = ElementFormat::ALL.iter().map(|f| f.emax()).collect();
    assert_eq!(emax, vec![8, 15, 4, 2, 2, 0]);
}

/// Midpoints between neighbours round to the even code; one FP32 ulp either side rounds to the
/// nearer neighbour. Values above the maximum saturate. Both signs.
#[test]
fn every_midpoint_rounds_to_nearest_even() {
    for f in ElementFormat::ALL {
        let lad = ladder(f);
        for w in lad.windows(2) {
            let ((ca, a), (cb, b)) = (w[0], w[1]);
            let mid = ((a + b) / 2.0) as f32;
            assert_eq!(
                f64::from(mid),
                (a + b) / 2.0,
                "{f}: midpoint must be exact in f32"
            );
            let even = if f == ElementFormat::Int8 {
                // INT8 codes are the integers themselves: the even integer wins.
                if ca % 2 == 0 { ca } else { cb }
            } else if ca % 2 == 0 {
                ca
            } else {
                cb
            };
            let below = f32::from_bits(mid.to_bits() - 1);
            let above = f32::from_bits(mid.to_bits() + 1);
            for (neg, x) in [(false, 1.0f32), (true, -1.0f32)] {
                let signed = |c: u32| -> u32 {
                    if !neg {
                        return c;
                    }
                    if f == ElementFormat::Int8 {
                        (-(c as i32) as u8) as u32
                    } else {
                        c | 1 << (f.bits() - 1)
                    }
                };
                assert_eq!(encode_f32(f, x * mid), signed(even), "{f} tie {mid}");
                assert_eq!(encode_f32(f, x * below), signed(ca), "{f} below {mid}");
                assert_eq!(encode_f32(f, x * above), signed(cb), "{f} above {mid}");
            }
        }
        // Saturation: the largest value, half an ulp above it, and far above it all clamp.
        let (cmax, vmax) = *lad.last().unwrap();
        for x in [vmax * 1.001, vmax * 2.0, vmax * 1e6, 3.0e38] {
            let e = {
                let d = match classify_f32((x as f32).to_bits()) {
                    F32Class::Finite(d) => d,
                    _ => unreachable!(),
                };
                f.encode(false, u64::from(d.mant), d.exp)
            };
            assert_eq!(e.code, cmax, "{f} saturates {x}");
            assert!(e.saturated, "{f} reports saturation of {x}");
        }
    }
}

/// Values far below the smallest subnormal round to a signed zero (FP) or 0 (INT8).
#[test]
fn tiny_values_round_to_signed_zero() {
    for f in ElementFormat::ALL {
        let neg_zero = if f == ElementFormat::Int8 {
            0
        } else {
            1 << (f.bits() - 1)
        };
        assert_eq!(encode_f32(f, 1e-30), 0, "{f}");
        assert_eq!(encode_f32(f, -1e-30), neg_zero, "{f}");
        assert_eq!(encode_f32(f, -0.0), neg_zero, "{f}");
    }
}

/// INT8 never produces -128, but decodes it as -2.0.
#[test]
fn int8_is_symmetric_and_decodes_minus_128() {
    assert_eq!(encode_f32(ElementFormat::Int8, -2.0), (-127i8) as u8 as u32);
    assert_eq!(ElementFormat::Int8.to_quanta(0x80), Some(-128));
}

/// E4M3 has only S.1111.111 as NaN and no infinity; E5M2 follows IEEE.
#[test]
fn special_codes_are_as_numerics_md_says() {
    use ElementFormat::*;
    assert_eq!(E4m3.decode(0x7f), Decoded::Nan);
    assert_eq!(E4m3.decode(0xff), Decoded::Nan);
    assert!(matches!(E4m3.decode(0x7e), Decoded::Finite { .. }));
    assert!(matches!(E4m3.decode(0x78), Decoded::Finite { .. }));
    assert_eq!(E5m2.decode(0x7c), Decoded::Inf { neg: false });
    assert_eq!(E5m2.decode(0xfc), Decoded::Inf { neg: true });
    for m in 1..4 {
        assert_eq!(E5m2.decode(0x7c | m), Decoded::Nan);
    }
    for f in [E3m2, E2m3, E2m1] {
        assert!((0..1 << f.bits()).all(|c| matches!(f.decode(c), Decoded::Finite { .. })));
    }
}
