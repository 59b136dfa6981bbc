//! The tabulated element encoder (`format::encode_table`) against `ElementFormat::encode`, the
//! bit-level definition it is built from. The table claims that only the binade, the top p bits
//! and a sticky bit matter, and that binades outside its rows clamp; these tests probe exactly
//! those claims with full 24-bit significands and with binades past both edges.

use blockrtl::format::ElementFormat;
use blockrtl::format::element::Encoded;
use blockrtl::format::encode_table::EncodeTable;
use rand::{RngExt, SeedableRng};

fn both(f: ElementFormat, neg: bool, mant: u32, exp: i32) -> (Encoded, Encoded) {
    (
        EncodeTable::of(f).encode(neg, mant, exp),
        f.encode(neg, u64::from(mant), exp),
    )
}

/// Every pattern of the top 12 bits of a 24-bit significand (more than any format's p + 1),
/// each with the low bits empty, a lone lowest bit, all ones, and one in the middle, in every
/// binade from 6 below the table to 6 above it, both signs. The lone low bit is the sticky
/// case: it must move a value just off a midpoint.
#[test]
fn full_significands_round_as_encode_does() {
    for f in ElementFormat::ALL {
        let binades = EncodeTable::of(f).binades();
        for binade in binades.start() - 6..=binades.end() + 6 {
            for top in 0..1u32 << 11 {
                for rest in [0u32, 1, 0xfff, 0x800] {
                    let mant = (1 << 23) | (top << 12) | rest;
                    for neg in [false, true] {
                        let (t, e) = both(f, neg, mant, binade - 23);
                        assert_eq!(t, e, "{f} neg={neg} mant={mant:#x} binade={binade}");
                    }
                }
            }
        }
    }
}

/// Short significands (FP32 subnormal inputs have 1 to 23 bits): every length, every pattern of
/// up to 10 bits and a few longer ones, around the table's binades.
#[test]
fn short_significands_round_as_encode_does() {
    for f in ElementFormat::ALL {
        let binades = EncodeTable::of(f).binades();
        for len in 1..=23u32 {
            let lowest = 1u32 << (len - 1);
            let mants: Vec<u32> = if len <= 10 {
                (lowest..lowest << 1).collect()
            } else {
                vec![
                    lowest,
                    lowest | 1,
                    (lowest << 1) - 1,
                    lowest | (lowest >> 1),
                ]
            };
            for binade in binades.start() - 3..=binades.end() + 3 {
                for &mant in &mants {
                    let exp = binade - (len as i32 - 1);
                    let (t, e) = both(f, true, mant, exp);
                    assert_eq!(t, e, "{f} mant={mant:#x} exp={exp}");
                }
            }
        }
    }
}

/// Random FP32-like inputs over a wide exponent range.
#[test]
fn random_values_round_as_encode_does() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(0x7ab1e);
    for f in ElementFormat::ALL {
        for _ in 0..200_000 {
            let mant = rng.random_range(1..1u32 << 24);
            let exp = rng.random_range(-200..60);
            let neg = rng.random::<bool>();
            let (t, e) = both(f, neg, mant, exp);
            assert_eq!(t, e, "{f} neg={neg} mant={mant:#x} exp={exp}");
        }
    }
}

/// The normal-FP32 entry point against `encode` of the same value: every biased exponent, the
/// top 10 fraction bits with sticky variants, and shifts that put the value in every binade of
/// the table and past both edges.
#[test]
fn normal_fp32_bits_round_as_encode_does() {
    for f in ElementFormat::ALL {
        let t = EncodeTable::of(f);
        for biased in 1..255u32 {
            for top in (0..1u32 << 10).step_by(3) {
                for rest in [0u32, 1, 0x1fff, 0x1000] {
                    let frac = (top << 13) | rest;
                    for neg in [0u32, 1] {
                        let bits = neg << 31 | biased << 23 | frac;
                        let unbiased = biased as i32 - 127;
                        let binades = t.binades();
                        for target in binades.start() - 3..=binades.end() + 3 {
                            let shift = unbiased - target;
                            let want = f.encode(
                                neg == 1,
                                u64::from(frac | 1 << 23),
                                unbiased - 23 - shift,
                            );
                            assert_eq!(
                                t.encode_normal_f32(bits, shift),
                                want,
                                "{f} bits={bits:#x} shift={shift}"
                            );
                        }
                    }
                }
            }
        }
    }
}
