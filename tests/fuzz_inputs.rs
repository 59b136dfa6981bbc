//! A bounded fuzz pass over everything blockrtl reads from a user: the `.npy` and
//! `.safetensors` readers, formatbook TOML and `--config` unit TOML. Random bytes and mutants of
//! valid files must give a tensor / book / unit list or an input error (exit 2) of one line:
//! never a panic. A CLI pass then runs mutated files through the binary under a 4 GiB
//! address-space limit, where an allocation sized by a crafted header would abort.

use blockrtl::format::{Formatbook, InputFormat};
use blockrtl::io::{LoadOptions, from_bytes};
use proptest::prelude::*;
use std::process::Command;

/// An error the user must see: exit status 2 and one line.
fn assert_input_error(e: &blockrtl::error::Error) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.exit_code(), 2, "{}", e);
    let text = e.to_string();
    prop_assert!(!text.contains('\n'), "more than one line: {}", text);
    Ok(())
}

fn valid_npy() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.npy");
    let raw =
        blockrtl::stimulus::tensor(blockrtl::stimulus::Dist::Normal, 4, 32, InputFormat::F32, 1)
            .unwrap();
    blockrtl::io::write_tensors(&p, InputFormat::F32, &[("t".into(), vec![4, 32], raw)]).unwrap();
    std::fs::read(p).unwrap()
}

fn valid_safetensors() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.safetensors");
    let raw: Vec<u32> = (0..64).map(|i| (i as f32 * 0.25).to_bits()).collect();
    let half: Vec<u32> = (0..32).map(|i| 0x3c00 + i).collect();
    blockrtl::io::write_tensors(&p, InputFormat::F32, &[("a".into(), vec![2, 32], raw)]).unwrap();
    let mut v = std::fs::read(&p).unwrap();
    blockrtl::io::write_tensors(&p, InputFormat::F16, &[("b".into(), vec![32], half)]).unwrap();
    v.extend(std::fs::read(&p).unwrap()); // trailing junk after a valid file, on purpose
    v
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    /// Overwrite 8 bytes with an extreme little-endian value (lengths, offsets, dimensions).
    Extreme(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (
            any::<usize>(),
            prop_oneof![
                Just(0u64),
                Just(u64::MAX),
                Just(u32::MAX as u64),
                Just(1u64 << 32),
                Just(1u64 << 63),
                any::<u64>()
            ]
        )
            .prop_map(|(i, v)| Mutation::Extreme(i, v)),
    ]
}

fn mutate(mut bytes: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let n = bytes.len().max(1);
        match m {
            Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % n] ^= b | 1,
            Mutation::Truncate(i) => bytes.truncate(i % n),
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Extreme(i, v) if bytes.len() >= 8 => {
                let at = i % (bytes.len() - 7);
                bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
            _ => {}
        }
    }
    bytes
}

/// Mutants of a valid file, and random bytes behind each reader's magic.
fn tensor_file() -> impl Strategy<Value = Vec<u8>> {
    let npy = valid_npy();
    let st = valid_safetensors();
    prop_oneof![
        prop::collection::vec(mutation(), 1..6).prop_map(move |ms| mutate(npy.clone(), &ms)),
        prop::collection::vec(mutation(), 1..6).prop_map(move |ms| mutate(st.clone(), &ms)),
        (0..3u8, prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(kind, tail)| {
            let mut v: Vec<u8> = match kind {
                0 => b"\x93NUMPY\x01\x00".to_vec(),
                1 => b"\x93NUMPY\x02\x00".to_vec(),
                _ => {
                    let mut h = (tail.len() as u64 / 2).to_le_bytes().to_vec();
                    h.push(b'{');
                    h
                }
            };
            v.extend(tail);
            v
        }),
    ]
}

const BOOK: &str = "name = \"b\"\nunit = \"half\"\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 12]\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 10]\n";

const CONFIG: &str = "[[unit]]\nunit = \"mx-quantizer\"\nformat = \"mxfp4\"\nblock_size = 8\ninput_format = \"bf16\"\nlanes = 4\npipeline = 2\n\n[[unit]]\nunit = \"dot\"\nformat_a = \"mxfp4\"\nformat_b = \"dialectfp4\"\nblock_size = 8\naccumulate = \"fixed\"\ndot_length = 3\nacc_width = 24\nacc_lsb = -8\n\n[[unit]]\nunit = \"bd-selector\"\nblock_size = 8\nselector = \"mse\"\nfrac_bits = 2\npipeline = 1\n";

/// Text mutants: characters replaced, removed or inserted (from an alphabet of TOML syntax and
/// digits), and numbers replaced by extremes.
fn toml_text(base: &'static str) -> impl Strategy<Value = String> {
    let edit = (
        any::<usize>(),
        0..4u8,
        prop::sample::select(vec![
            "0",
            "-1",
            "18446744073709551615",
            "99999999999999999999999",
            "1e400",
            "nan",
            "\"",
            "[",
            "]",
            "=",
            "\n",
            "[[unit]]",
            "\"/dev/zero\"",
            "4096",
            "1048576",
            ",",
        ]),
    );
    prop::collection::vec(edit, 1..5).prop_map(move |edits| {
        let mut s: Vec<char> = base.chars().collect();
        for (at, kind, piece) in edits {
            let i = at % (s.len() + 1);
            match kind {
                0 if i < s.len() => {
                    s.remove(i);
                }
                1 if i < s.len() => {
                    // Replace the run of digits here (if any) by the piece.
                    let mut j = i;
                    while j < s.len() && s[j].is_ascii_digit() {
                        j += 1;
                    }
                    s.splice(i..j.max(i + 1), piece.chars());
                }
                _ => {
                    s.splice(i..i, piece.chars());
                }
            }
        }
        s.into_iter().collect()
    })
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn tensor_readers_never_panic(bytes in tensor_file(), safetensors_name in any::<bool>()) {
        let opts = LoadOptions::default();
        match from_bytes(&bytes, "fuzz", Some("t".into()), safetensors_name, &opts) {
            Ok(ts) => {
                for t in ts.tensors {
                    let n: usize = t.shape.iter().product();
                    prop_assert_eq!(n, t.bits.len());
                }
            }
            Err(e) => assert_input_error(&e)?,
        }
        // Raw 16-bit codes take the integer path of the npy reader.
        let codes = LoadOptions { input_format: Some(InputFormat::Bf16), ..LoadOptions::default() };
        if let Err(e) = from_bytes(&bytes, "fuzz", None, false, &codes) {
            assert_input_error(&e)?;
        }
    }

    #[test]
    fn formatbooks_never_panic(text in toml_text(BOOK)) {
        match Formatbook::parse(&text, "fuzz") {
            Ok(book) => {
                // A book that parses is one the hardware can take: pairs or a reason.
                let _ = book.pairs();
                prop_assert!(!book.is_empty() && book.len() <= 16);
            }
            Err(e) => assert_input_error(&blockrtl::error::Error::from(e))?,
        }
    }
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn unit_configs_never_panic(text in toml_text(CONFIG)) {
        match blockrtl::units::parse_config(&text, "fuzz") {
            // What validates must emit: validation is the only gate before the generator.
            Ok(units) => {
                for u in units {
                    if let Err(e) = u.emit() {
                        assert_input_error(&e)?;
                    }
                }
            }
            Err(e) => assert_input_error(&e)?,
        }
    }
}

/// The same mutants through the binary, under a 4 GiB address-space limit: exit 0 or 2, and on
/// 2 one line, never an abort.
#[test]
fn the_cli_survives_mutated_files_under_a_memory_limit() {
    use proptest::strategy::ValueTree;
    let dir = tempfile::tempdir().unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = tensor_file();
    let mut outcomes = [0u32; 2];
    for i in 0..300 {
        let bytes = strategy.new_tree(&mut runner).unwrap().current();
        let ext = if i % 2 == 0 { "npy" } else { "safetensors" };
        let path = dir.path().join(format!("f{i}.{ext}"));
        std::fs::write(&path, &bytes).unwrap();
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v {} && exec '{}' quantize --input '{}' --format mxfp4 --block-size 4 --pad",
                4u64 << 20,
                env!("CARGO_BIN_EXE_blockrtl"),
                path.display()
            ))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => outcomes[0] += 1,
            Some(2) => {
                assert_eq!(
                    err.trim_end().lines().count(),
                    1,
                    "{}: {err}",
                    path.display()
                );
                outcomes[1] += 1;
            }
            other => panic!("{}: exit {other:?}: {err}", path.display()),
        }
    }
    println!(
        "cli fuzz: {} accepted, {} refused",
        outcomes[0], outcomes[1]
    );
    assert!(
        outcomes[1] > 0,
        "no mutant was refused: the mutations do nothing"
    );
}
