//! The golden dequantizer against an independent decode written here from the format tables
//! of numerics.md section 2: every element code of every format, every scale code, every
//! output format. The reference value is exact in f64 (at most 8 significant bits times a
//! power of two within f64's range); Rust's `as f32` and the `half` crate round it once to the
//! output format (both round to nearest even, keep subnormals and overflow to infinity).

use blockrtl::format::{ElementFormat, Formatbook, InputFormat, OperandFormat};
use blockrtl::golden::BlockFormat;
use blockrtl::golden::dequant::dequantize_element;
use std::sync::Arc;

const OUTPUTS: [InputFormat; 3] = [InputFormat::F32, InputFormat::Bf16, InputFormat::F16];

/// (exponent bits, mantissa bits, bias, NaN rule) of each OCP MX minifloat, from the table.
fn minifloat(f: ElementFormat) -> Option<(u32, u32, i32, &'static str)> {
    Some(match f {
        ElementFormat::E4m3 => (4, 3, 7, "nan-all-ones"),
        ElementFormat::E5m2 => (5, 2, 15, "ieee"),
        ElementFormat::E3m2 => (3, 2, 3, "none"),
        ElementFormat::E2m3 => (2, 3, 1, "none"),
        ElementFormat::E2m1 => (2, 1, 1, "none"),
        ElementFormat::Int8 => return None,
    })
}

/// The element's value, or None for NaN / infinity.
fn decode(f: ElementFormat, code: u32) -> Option<f64> {
    let Some((eb, mb, bias, nan)) = minifloat(f) else {
        return Some(f64::from(code as u8 as i8) / 64.0);
    };
    let sign = if code >> (eb + mb) & 1 == 1 {
        -1.0
    } else {
        1.0
    };
    let e = (code >> mb) & ((1 << eb) - 1);
    let m = code & ((1 << mb) - 1);
    let top = e == (1 << eb) - 1;
    match nan {
        "nan-all-ones" if top && m == (1 << mb) - 1 => return None,
        "ieee" if top => return None,
        _ => {}
    }
    let frac = f64::from(m) / f64::from(1u32 << mb);
    let mag = if e == 0 {
        frac * 2f64.powi(1 - bias)
    } else {
        (1.0 + frac) * 2f64.powi(e as i32 - bias)
    };
    Some(sign * mag)
}

fn round(v: f64, out: InputFormat) -> u32 {
    match out {
        InputFormat::F32 => (v as f32).to_bits(),
        InputFormat::Bf16 => u32::from(half::bf16::from_f64(v).to_bits()),
        InputFormat::F16 => u32::from(half::f16::from_f64(v).to_bits()),
    }
}

fn expected(elem: Option<f64>, scale: u32, out: InputFormat) -> u32 {
    match elem {
        Some(v) if scale != 0xff => round(v * 2f64.powi(scale as i32 - 127), out),
        _ => out.canonical_nan(),
    }
}

#[test]
fn every_mx_code_and_scale_matches_an_independent_decode() {
    let mut checked = 0u64;
    for f in ElementFormat::ALL {
        let bf = BlockFormat::Mx(f);
        for scale in 0..=255u32 {
            for code in 0..1u32 << f.bits() {
                for out in OUTPUTS {
                    let want = expected(decode(f, code), scale, out);
                    let got = dequantize_element(&bf, out, scale, 0, code);
                    assert_eq!(
                        got,
                        want,
                        "{} code {code:#x} scale {scale:#x} to {}",
                        f.mx_name(),
                        out.name()
                    );
                    checked += 1;
                }
            }
        }
    }
    // 256 scales x 3 outputs x (three 8-bit formats, two 6-bit, one 4-bit).
    assert_eq!(checked, 256 * 3 * (3 * 256 + 2 * 64 + 16));
}

#[test]
fn every_dialect_code_and_scale_matches_an_independent_decode() {
    let book = Arc::new(Formatbook::dialectfp4());
    let bf = BlockFormat::named(OperandFormat::Dialect, book.clone());
    for (id, values) in book.dialects.iter().enumerate() {
        for scale in 0..=255u32 {
            for code in 0..16u32 {
                let half_units = f64::from(values[(code & 7) as usize]);
                let v = if code & 8 != 0 {
                    -half_units
                } else {
                    half_units
                } / 2.0;
                for out in OUTPUTS {
                    assert_eq!(
                        dequantize_element(&bf, out, scale, id as u8, code),
                        expected(Some(v), scale, out),
                        "dialect {id} code {code} scale {scale:#x} to {}",
                        out.name()
                    );
                }
            }
        }
    }
}

/// A dialect id past the end of the book has no values: NaN, not some other dialect's values.
#[test]
fn a_dialect_id_the_book_lacks_is_nan() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let book = Arc::new(Formatbook::load(&root.join("verif/book4.toml")).unwrap());
    assert_eq!(book.len(), 4);
    let bf = BlockFormat::named(OperandFormat::Dialect, book);
    assert_eq!(
        dequantize_element(&bf, InputFormat::F32, 127, 3, 1),
        0x3f00_0000
    );
    for id in 4..16 {
        assert_eq!(
            dequantize_element(&bf, InputFormat::F32, 127, id, 1),
            0x7fc0_0000
        );
    }
}

#[test]
fn corner_cases() {
    let e4m3 = BlockFormat::Mx(ElementFormat::E4m3);
    let fp4 = BlockFormat::Mx(ElementFormat::E2m1);
    // 2^127 x 448 is above FP32's largest finite value: +Inf, and -Inf for -448.
    assert_eq!(
        dequantize_element(&e4m3, InputFormat::F32, 0xfe, 0, 0x7e),
        0x7f80_0000
    );
    assert_eq!(
        dequantize_element(&e4m3, InputFormat::F32, 0xfe, 0, 0xfe),
        0xff80_0000
    );
    // The smallest E4M3 subnormal at the smallest scale, 2^-136, is an exact FP32 subnormal...
    assert_eq!(
        dequantize_element(&e4m3, InputFormat::F32, 0x00, 0, 0x01),
        1 << 13
    );
    // ...and an eighth of BF16's smallest subnormal (2^-133): it rounds to zero, sign kept.
    assert_eq!(
        dequantize_element(&e4m3, InputFormat::Bf16, 0x00, 0, 0x81),
        0x8000
    );
    // -0 keeps its sign in every output format.
    assert_eq!(
        dequantize_element(&fp4, InputFormat::F32, 127, 0, 0x8),
        0x8000_0000
    );
    assert_eq!(
        dequantize_element(&fp4, InputFormat::F16, 127, 0, 0x8),
        0x8000
    );
    // 6 x 2^15 = 196608 overflows FP16 (max 65504); 6 x 2^13 = 49152 does not.
    assert_eq!(
        dequantize_element(&fp4, InputFormat::F16, 127 + 15, 0, 0x7),
        0x7c00
    );
    assert_eq!(
        dequantize_element(&fp4, InputFormat::F16, 127 + 13, 0, 0x7),
        0x7a00
    );
    // A tie in the FP16 subnormal range: 1.5 x 2^-25 is 0.75 of the smallest subnormal 2^-24
    // (rounds up to it), and 0.5 x 2^-24 is a tie that goes to the even code 0.
    assert_eq!(
        dequantize_element(&fp4, InputFormat::F16, 127 - 25, 0, 0x3),
        0x0001
    );
    assert_eq!(
        dequantize_element(&fp4, InputFormat::F16, 127 - 24, 0, 0x1),
        0x0000
    );
    // NaN scale, NaN element: the canonical quiet NaN of each output.
    assert_eq!(
        dequantize_element(&fp4, InputFormat::Bf16, 0xff, 0, 0x2),
        0x7fc0
    );
    assert_eq!(
        dequantize_element(&e4m3, InputFormat::F16, 127, 0, 0xff),
        0x7e00
    );
    // E5M2 infinity is not a value a block can hold: NaN too.
    let e5m2 = BlockFormat::Mx(ElementFormat::E5m2);
    assert_eq!(
        dequantize_element(&e5m2, InputFormat::F32, 127, 0, 0x7c),
        0x7fc0_0000
    );
}
