//! Every bad input that once crashed, hung or exited wrongly (issue 11's list), run under a
//! 4 GiB address-space limit so an allocation sized by a crafted header aborts instead of
//! succeeding quietly: each must exit 2 with one line on stderr, before any tool is run.

use std::path::Path;
use std::process::Command;

/// 4 GiB in KiB, for `ulimit -v`.
const ADDRESS_SPACE_KIB: u64 = 4 << 20;

struct Case {
    /// What went wrong before (the issue's words), for the failure message.
    what: &'static str,
    args: Vec<String>,
    /// A piece of the one line the user must see.
    needle: &'static str,
}

fn case(what: &'static str, args: &[&str], needle: &'static str) -> Case {
    Case {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        needle,
    }
}

/// Run blockrtl in `dir` under the address-space limit; (exit status, stdout, stderr).
fn run_limited(dir: &Path, args: &[String]) -> (Option<i32>, String, String) {
    let mut script = format!(
        "ulimit -v {ADDRESS_SPACE_KIB} && exec '{}'",
        env!("CARGO_BIN_EXE_blockrtl")
    );
    for a in args {
        script.push_str(&format!(" '{a}'"));
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        // The default distributions need no cache; a replay check must fail before any build.
        .env("BLOCKRTL_CACHE", dir.join("cache"))
        .output()
        .expect("sh runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn npy(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY".to_vec();
    v.push(version);
    v.push(0);
    if version == 1 {
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        v.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

fn write_inputs(dir: &Path) {
    let w = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    // The element count of this shape wraps to 0 in 64 bits.
    w(
        "wrap.npy",
        &npy(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n",
            &[0; 64],
        ),
    );
    // A shape far larger than the data behind it.
    w(
        "short.npy",
        &npy(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1), }\n",
            &[0; 64],
        ),
    );
    // An npy v2 header length of 0xFFFFFFFF in a 14-byte file.
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend_from_slice(&u32::MAX.to_le_bytes());
    v2.extend_from_slice(b"{}");
    w("hugeheader.npy", &v2);
    // A safetensors header length beyond the file.
    let mut st = (u64::MAX / 2).to_le_bytes().to_vec();
    st.extend_from_slice(b"{}");
    w("hugeheader.safetensors", &st);
    // A safetensors tensor whose shape overflows.
    let json = br#"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#;
    let mut st = (json.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(json);
    w("wrap.safetensors", &st);
    // 64 x 33 floats: rows that 32 does not divide.
    let mut rows = npy(
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (64, 33), }\n",
        &[],
    );
    for i in 0..64 * 33 {
        rows.extend_from_slice(&(i as f32 * 1e-3).to_le_bytes());
    }
    w("odd.npy", &rows);
    w("empty.replay", b"");
    w("text.replay", b"this is not a replay file\n");
    w(
        "dup.toml",
        b"name = \"dup\"\nunit = \"half\"\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 12]\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 10]\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 12]\n",
    );
}

fn cases() -> Vec<Case> {
    let mxq = ["cosim", "--unit", "mx-quantizer", "--format", "mxfp4"];
    let with = |base: &[&str], more: &[&str]| -> Vec<String> {
        base.iter().chain(more).map(|s| s.to_string()).collect()
    };
    let mut v = vec![
        case(
            "nvfp4-quantizer with fewer lanes than the block",
            &[
                "generate",
                "--unit",
                "nvfp4-quantizer",
                "--lanes",
                "4",
                "--out",
                "nvq",
            ],
            "nvfp4-quantizer takes a whole block per beat: lanes 4 must equal the block size 16",
        ),
        case(
            "nvfp4-quantizer flushing FP16 subnormals",
            &[
                "generate",
                "--unit",
                "nvfp4-quantizer",
                "--input-format",
                "f16",
                "--flush-subnormals",
                "--out",
                "nvq",
            ],
            "flush_subnormals applies to f32 and bf16 inputs",
        ),
        case(
            "nvfp4-quantizer given an element format",
            &[
                "generate",
                "--unit",
                "nvfp4-quantizer",
                "--format",
                "mxfp4",
                "--out",
                "nvq",
            ],
            "--format does not apply to --unit nvfp4-quantizer",
        ),
        case(
            "npy shape whose element count wraps to 0",
            &["quantize", "--input", "wrap.npy", "--format", "mxfp4"],
            "more elements than any file can hold",
        ),
        case(
            "npy shape larger than its data",
            &["quantize", "--input", "short.npy", "--format", "mxfp4"],
            "corrupt or truncated .npy (shape [1099511627776, 1]",
        ),
        case(
            "npy v2 header length 0xFFFFFFFF",
            &["quantize", "--input", "hugeheader.npy", "--format", "mxfp4"],
            "the header claims 4294967295 bytes",
        ),
        case(
            "safetensors header length beyond the file",
            &[
                "quantize",
                "--input",
                "hugeheader.safetensors",
                "--format",
                "mxfp4",
            ],
            "corrupt or truncated .safetensors",
        ),
        case(
            "safetensors shape that overflows",
            &[
                "quantize",
                "--input",
                "wrap.safetensors",
                "--format",
                "mxfp4",
            ],
            "corrupt or truncated .safetensors",
        ),
        case(
            "a device as the input (read forever)",
            &["quantize", "--input", "/dev/zero", "--format", "mxfp4"],
            "not a regular file",
        ),
        case(
            "make-tensor of 10^12 elements",
            &[
                "make-tensor",
                "--shape",
                "1000000x1000000",
                "--out",
                "a.npy",
            ],
            "more than 2^31 elements",
        ),
        case(
            "make-tensor shape that overflows usize",
            &[
                "make-tensor",
                "--shape",
                "18446744073709551615x2",
                "--out",
                "b.npy",
            ],
            "more than 2^31 elements",
        ),
        case(
            "make-tensor --count 10^9 (memory grew with the count)",
            &[
                "make-tensor",
                "--count",
                "1000000000",
                "--out",
                "c.safetensors",
            ],
            "--count 1000000000 must be 1..=4096",
        ),
        case(
            "make-tensor --count 0 (a file of no tensors)",
            &["make-tensor", "--count", "0", "--out", "d.safetensors"],
            "--count 0 must be 1..=4096",
        ),
        case(
            "make-tensor past the file-size limit",
            &[
                "make-tensor",
                "--shape",
                "32768x32768",
                "--count",
                "100",
                "--out",
                "e.safetensors",
            ],
            "more than the 64 GiB limit",
        ),
        case(
            "quantize --block-size 10^9 --pad (allocated the padded row)",
            &[
                "quantize",
                "--input",
                "odd.npy",
                "--format",
                "mxfp4",
                "--block-size",
                "1000000000",
                "--pad",
            ],
            "block size 1000000000 must be 1..=4096",
        ),
        case(
            "formatbook with two identical dialects",
            &[
                "generate",
                "--unit",
                "bd-quantizer",
                "--selector",
                "mse",
                "--formatbook",
                "dup.toml",
                "--out",
                "rtl",
            ],
            "dialects 0 and 2 are the same",
        ),
        case(
            "explore --min-sqnr-db NaN",
            &[
                "explore",
                "--input",
                "odd.npy",
                "--out",
                "x1",
                "--min-sqnr-db",
                "NaN",
            ],
            "--min-sqnr-db NaN must be a finite number",
        ),
        case(
            "explore --budget-bits-per-element NaN",
            &[
                "explore",
                "--input",
                "odd.npy",
                "--out",
                "x2",
                "--budget-bits-per-element",
                "NaN",
            ],
            "--budget-bits-per-element NaN must be a positive number",
        ),
        case(
            "explore --budget-bits-per-element inf",
            &[
                "explore",
                "--input",
                "odd.npy",
                "--out",
                "x3",
                "--budget-bits-per-element",
                "inf",
            ],
            "must be a positive number",
        ),
        case(
            "explore padded rows that 32 does not divide without being asked",
            &[
                "explore",
                "--input",
                "odd.npy",
                "--out",
                "x4",
                "--block-sizes",
                "32",
                "--synth-target",
                "none",
            ],
            "not a multiple of the block size 32",
        ),
        case(
            "cosim --watchdog-cycles 0",
            &[
                "cosim",
                "--unit",
                "mx-quantizer",
                "--format",
                "mxfp4",
                "--watchdog-cycles",
                "0",
            ],
            "--watchdog-cycles 0 must be",
        ),
        case(
            "cosim --blocks 0 (passed, checking nothing)",
            &[
                "cosim",
                "--unit",
                "mx-quantizer",
                "--format",
                "mxfp4",
                "--blocks",
                "0",
            ],
            "--blocks must be at least 1",
        ),
        case(
            "cosim --rtl of a folder that is not there",
            &[
                "cosim",
                "--unit",
                "mx-quantizer",
                "--format",
                "mxfp4",
                "--rtl",
                "no-such-folder",
            ],
            "not a folder",
        ),
        case(
            // Only INT8 x INT8 products are wide enough to be worth a hard multiplier.
            "dot on DSPs with an FP4 operand",
            &[
                "generate",
                "--unit",
                "dot",
                "--format-a",
                "mxfp4",
                "--format-b",
                "mxint8",
                "--multiplier",
                "dsp",
                "--out",
                "o",
            ],
            "--multiplier dsp applies to mxint8 x mxint8 only",
        ),
    ];
    // The gemm tile: every refused combination names what to change.
    let gemm = ["--unit", "gemm", "--format-w", "mxfp4", "--block-size", "8"];
    for (what, sub, extra, needle) in [
        (
            // Its nvfp4-quantizer builds whole-block beats only.
            "gemm with NVFP4 activations in beats narrower than a block",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "4",
                "--format-x",
                "nvfp4",
                "--lanes",
                "4",
                "--out",
                "o",
            ][..],
            "--lanes 4 must equal the block size 8",
        ),
        (
            // The tensor scales are the user's, so the results are not the values to requantize.
            "gemm with NVFP4 operands requantized",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "8",
                "--format-x",
                "nvfp4",
                "--requantize",
                "mxfp4",
                "--out",
                "o",
            ][..],
            "--requantize mxfp4 with nvfp4 operands",
        ),
        (
            // The message names the flag that set the quantizer's depth, not the tile's --pipeline.
            "gemm quantizer deeper than it can be cut",
            "generate",
            &[
                "--in-features",
                "64",
                "--out-features",
                "8",
                "--format-x",
                "mxfp4",
                "--quantizer-pipeline",
                "13",
                "--out",
                "o",
            ][..],
            "--quantizer-pipeline: pipeline 13: at most 12 stages",
        ),
        (
            "gemm K not a multiple of k",
            "generate",
            &["--in-features", "12", "--out-features", "4", "--out", "o"][..],
            "must be a multiple of the block size 8",
        ),
        (
            "gemm N not a multiple of C",
            "cosim",
            &["--in-features", "16", "--out-features", "5", "--cols", "2"][..],
            "must be a multiple of --cols 2",
        ),
        (
            "gemm without out features",
            "cosim",
            &["--in-features", "16"][..],
            "needs --out-features",
        ),
        (
            "gemm weights without a tensor name",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "4",
                "--weights",
                "w.safetensors",
                "--out",
                "o",
            ][..],
            "go together",
        ),
        (
            "gemm f16 results",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "4",
                "--output-format",
                "f16",
                "--out",
                "o",
            ][..],
            "writes f32 or bf16 results",
        ),
        (
            "gemm weights from a missing checkpoint",
            "pack",
            &[
                "--in-features",
                "16",
                "--out-features",
                "4",
                "--weights",
                "none.safetensors",
                "--tensor",
                "w",
                "--out",
                "o",
            ][..],
            "none.safetensors",
        ),
        (
            "pack without weights",
            "pack",
            &["--in-features", "16", "--out-features", "4", "--out", "o"][..],
            "pack needs --weights",
        ),
        (
            "an output block size without requantization",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "4",
                "--output-block-size",
                "4",
                "--out",
                "o",
            ][..],
            "needs --requantize",
        ),
        (
            "requantized blocks that do not divide a result row",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "12",
                "--requantize",
                "mxfp4",
                "--output-block-size",
                "8",
                "--out",
                "o",
            ][..],
            "multiple of the output block size 8",
        ),
        (
            "a tile of 17 rows",
            "generate",
            &[
                "--in-features",
                "16",
                "--out-features",
                "4",
                "--rows",
                "17",
                "--out",
                "o",
            ][..],
            "--rows 17 must be 1 to 16",
        ),
    ] {
        let mut args = vec![sub.to_string()];
        args.extend(gemm.iter().chain(extra).map(|a| a.to_string()));
        if !extra.contains(&"--format-x") {
            args.extend(["--format-x".to_string(), "mxfp4".to_string()]);
        }
        v.push(Case { what, args, needle });
    }
    v.push(case(
        "activations for a unit that is not a gemm tile",
        &with(&mxq, &["--activations", "x.npy"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        "--activations applies to --unit gemm",
    ));
    for (what, file, needle) in [
        (
            "cosim --replay of a missing file",
            "missing.replay",
            "cannot read it",
        ),
        (
            "cosim --replay of an empty file",
            "empty.replay",
            "the file is empty",
        ),
        (
            "cosim --replay of a file that is not a replay",
            "text.replay",
            "not a blockrtl replay file",
        ),
    ] {
        v.push(Case {
            what,
            args: with(&mxq, &["--replay", file]),
            needle,
        });
    }
    v
}

#[test]
fn every_bad_input_exits_2_with_one_line_under_a_4_gib_limit() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let mut failed = Vec::new();
    for c in cases() {
        let start = std::time::Instant::now();
        let (code, _, err) = run_limited(dir.path(), &c.args);
        let secs = start.elapsed().as_secs_f64();
        let first = err.lines().next().unwrap_or("").to_string();
        // The table the closing note gives: case, status, first line.
        println!("{:<64} exit {:?}  {first}", c.what, code);
        let ok = code == Some(2)
            && err.trim_end().lines().count() == 1
            && err.contains(c.needle)
            && !err.contains("panicked");
        if !ok {
            failed.push(format!(
                "{} ({:?}): exit {code:?} after {secs:.1} s, stderr: {err}",
                c.what, c.args
            ));
        }
    }
    // Nothing may have been written for a refused command.
    for name in [
        "a.npy",
        "b.npy",
        "c.safetensors",
        "d.safetensors",
        "e.safetensors",
        "rtl",
    ] {
        assert!(!dir.path().join(name).exists(), "{name} was written");
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// `generate` refuses to replace a generated file the user edited, names it, and leaves every
/// file as it was; `--force` replaces it.
#[test]
fn generate_keeps_an_edited_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rtl");
    let gen_args = |force: bool| -> Vec<String> {
        let mut v: Vec<String> = [
            "generate",
            "--unit",
            "mx-quantizer",
            "--format",
            "mxfp4",
            "--block-size",
            "8",
            "--out",
            "rtl",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if force {
            v.push("--force".into());
        }
        v
    };
    let (code, _, err) = run_limited(dir.path(), &gen_args(false));
    assert_eq!(code, Some(0), "{err}");
    let top = out.join("mxq_e2m1_f32_k8_l8_p2.v");
    let mut edited = std::fs::read_to_string(&top).unwrap();
    edited.push_str("// a user's note\n");
    std::fs::write(&top, &edited).unwrap();
    let manifest = std::fs::read(out.join("manifest.json")).unwrap();
    let (code, _, err) = run_limited(dir.path(), &gen_args(false));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("mxq_e2m1_f32_k8_l8_p2.v was edited"), "{err}");
    assert_eq!(std::fs::read_to_string(&top).unwrap(), edited);
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), manifest);
    let (code, _, err) = run_limited(dir.path(), &gen_args(true));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !std::fs::read_to_string(&top)
            .unwrap()
            .contains("a user's note")
    );
}

/// `cosim --help` lists the stimulus distributions, not only the error message.
#[test]
fn cosim_help_lists_the_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run_limited(dir.path(), &["cosim".into(), "--help".into()]);
    assert_eq!(code, Some(0));
    for d in blockrtl::stimulus::Dist::ALL {
        assert!(out.contains(d.name()), "{} missing from:\n{out}", d.name());
    }
}
