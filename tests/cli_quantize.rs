//! The `quantize` command end to end: files in, report out, and every kind of bad input.

use blockrtl::format::{ElementFormat, InputFormat};
use blockrtl::golden::MxConfig;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .output()
        .expect("runs")
}

fn write(
    dir: &Path,
    name: &str,
    fmt: InputFormat,
    tensors: &[(&str, Vec<usize>, Vec<u32>)],
) -> PathBuf {
    let path = dir.join(name);
    let owned: Vec<(String, Vec<usize>, Vec<u32>)> = tensors
        .iter()
        .map(|(n, s, r)| (n.to_string(), s.clone(), r.clone()))
        .collect();
    blockrtl::io::write_tensors(&path, fmt, &owned).unwrap();
    path
}

fn f32s(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// The bad-input contract: exit status 2 and a single line on stderr that contains `needle`.
fn assert_bad_input(args: &[&str], needle: &str) {
    let out = blockrtl(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected '{needle}' in: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn report_numbers_match_the_golden_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = blockrtl::stimulus::rng(3);
    let raw: Vec<u32> = (0..8)
        .flat_map(|_| {
            blockrtl::stimulus::block(
                blockrtl::stimulus::Dist::Laplace,
                InputFormat::F32,
                64,
                blockrtl::format::Formatbook::builtin(),
                &mut r,
            )
        })
        .collect();
    let p = write(
        dir.path(),
        "x.npy",
        InputFormat::F32,
        &[("x", vec![8, 64], raw.clone())],
    );
    let codes = dir.path().join("codes.jsonl");
    let out = blockrtl(&[
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "mxfp4",
        "--format",
        "dialectfp4",
        "--block-size",
        "32",
        "--json",
        "--codes",
        codes.to_str().unwrap(),
    ]);
    let v = json(&out);
    // Settings are typed: the fraction bits a number, the selector stated.
    assert_eq!(v["dialect"]["frac_bits"], 2);
    assert_eq!(v["dialect"]["selector"], "mse");
    // Recompute MXFP4 statistics directly from the golden model.
    let cfg = MxConfig {
        elem: ElementFormat::E2m1,
        flush_subnormals: false,
        scale_rule: blockrtl::format::ScaleRule::Floor,
    };
    let fmt = blockrtl::golden::BlockFormat::Mx(ElementFormat::E2m1);
    let mut sq_err = 0.0;
    let mut max_err: f64 = 0.0;
    let mut first = None;
    for blk in raw.chunks(32) {
        let q = cfg.quantize(blk);
        first.get_or_insert(q.clone());
        for (&x, y) in blk.iter().zip(fmt.dequantize(&q)) {
            let e = f64::from(f32::from_bits(x)) - y;
            sq_err += e * e;
            max_err = max_err.max(e.abs());
        }
    }
    let row = &v["rows"][0];
    assert_eq!(row["tensor"], "x");
    assert_eq!(row["format"], "mxfp4");
    assert_eq!(row["blocks"], 16);
    assert_eq!(row["mse"].as_f64().unwrap(), sq_err / 512.0);
    assert_eq!(row["max_abs_err"].as_f64().unwrap(), max_err);
    assert!(row["dialect_histogram"].is_null());
    // DialectFP4 has a histogram over 16 dialects summing to the block count.
    let h: Vec<u64> = serde_json::from_value(v["rows"][1]["dialect_histogram"].clone()).unwrap();
    assert_eq!((h.len(), h.iter().sum::<u64>()), (16, 16));
    assert_eq!(v["totals"].as_array().unwrap().len(), 2);
    // Codes: one line per block and format; the first is the golden model's first block.
    let text = std::fs::read_to_string(&codes).unwrap();
    assert_eq!(text.lines().count(), 32);
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let q = first.unwrap();
    assert_eq!(line["block"], 0);
    assert_eq!(line["scale"], q.scale);
    assert_eq!(line["codes"], serde_json::json!(q.codes));
    assert!(text.lines().nth(16).unwrap().contains("\"dialect\""));
    // Same call again: refuses to overwrite the codes file; with --force it replaces it.
    let args = [
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "mxfp4",
        "--codes",
        codes.to_str().unwrap(),
    ];
    assert_bad_input(&args, "refusing to overwrite");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(blockrtl(&forced).status.success());
}

#[test]
fn safetensors_tensors_by_name_in_every_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let ones_bf16 = vec![0x3f80u32; 64];
    let p = write(
        dir.path(),
        "m.safetensors",
        InputFormat::Bf16,
        &[
            ("layer0.weight", vec![2, 32], ones_bf16.clone()),
            ("layer1.weight", vec![64], ones_bf16),
        ],
    );
    let v = json(&blockrtl(&[
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "mxint8",
        "--json",
    ]));
    // Only matrices by default: the 1-D tensor is listed as skipped, not quantized.
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(v["skipped"][0]["name"], "layer1.weight");
    assert!(
        v["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("1-D")
    );
    // 1.0 is exact in MXINT8: no error, SQNR infinite (null).
    assert_eq!(rows[0]["mse"], 0.0);
    assert!(rows[0]["sqnr_db"].is_null());
    let v = json(&blockrtl(&[
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "mxint8",
        "--tensor",
        "layer1",
        "--json",
    ]));
    // Named with --tensor, it is taken as one row.
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    assert_eq!(v["rows"][0]["tensor"], "layer1.weight");
    for fmt in [InputFormat::F32, InputFormat::F16] {
        let raw = if fmt == InputFormat::F32 {
            f32s(&[0.5; 32])
        } else {
            vec![0x3800; 32]
        };
        let p = write(dir.path(), "w.safetensors", fmt, &[("w", vec![1, 32], raw)]);
        let v = json(&blockrtl(&[
            "quantize",
            "--input",
            p.to_str().unwrap(),
            "--format",
            "mxfp4",
            "--json",
        ]));
        assert_eq!(v["rows"][0]["mse"], 0.0, "{fmt}");
    }
}

#[test]
fn nan_blocks_are_counted_and_padding_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut xs = vec![1.0f32; 40];
    xs[3] = f32::NAN;
    let p = write(
        dir.path(),
        "n.npy",
        InputFormat::F32,
        &[("n", vec![40], f32s(&xs))],
    );
    assert_bad_input(
        &[
            "quantize",
            "--input",
            p.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "not a multiple of the block size 32",
    );
    let v = json(&blockrtl(&[
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "mxfp4",
        "--pad",
        "--json",
    ]));
    let row = &v["rows"][0];
    assert_eq!(
        (row["blocks"].as_u64(), row["nan_blocks"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (row["elements"].as_u64(), row["padded"].as_u64()),
        (Some(40), Some(24))
    );
    assert_eq!(
        row["mse"], 0.0,
        "the NaN block is excluded, the rest is exact"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = write(
        d,
        "g.npy",
        InputFormat::F32,
        &[("g", vec![32], f32s(&[1.0; 32]))],
    );
    let g = good.to_str().unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--input",
            "/nonexistent/x.npy",
            "--format",
            "mxfp4",
        ],
        "cannot read",
    );
    let junk = d.join("junk.bin");
    std::fs::write(&junk, b"hello, not a tensor").unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--input",
            junk.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "not an .npy or .safetensors",
    );
    let bytes = std::fs::read(&good).unwrap();
    let trunc = d.join("t.npy");
    std::fs::write(&trunc, &bytes[..bytes.len() - 10]).unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--input",
            trunc.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "corrupt or truncated",
    );
    let st = write(
        d,
        "s.safetensors",
        InputFormat::F32,
        &[("a", vec![32], f32s(&[1.0; 32]))],
    );
    let sbytes = std::fs::read(&st).unwrap();
    let strunc = d.join("st.safetensors");
    std::fs::write(&strunc, &sbytes[..sbytes.len() - 8]).unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--input",
            strunc.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "corrupt or truncated",
    );
    assert_bad_input(
        &[
            "quantize",
            "--input",
            st.to_str().unwrap(),
            "--format",
            "mxfp4",
            "--tensor",
            "nope",
        ],
        "no tensor matches",
    );
    // An int32 .npy: unsupported dtype.
    let ints = d.join("i.npy");
    npyz::to_file_1d(&ints, [1i32, 2, 3]).unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--input",
            ints.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "unsupported dtype",
    );
    // A 3-D array.
    let cube = d.join("c.npy");
    let mut buf = Vec::new();
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[2, 2, 8])
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend([0.5f32; 32]).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(&cube, buf).unwrap();
    // A 3-D array is rows of its last axis: 4 rows of 8, so k = 32 does not divide them ...
    assert_bad_input(
        &[
            "quantize",
            "--input",
            cube.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "rows of 8 elements",
    );
    // ... and k = 8 makes 4 blocks.
    let v = json(&blockrtl(&[
        "quantize",
        "--input",
        cube.to_str().unwrap(),
        "--format",
        "mxfp4",
        "--block-size",
        "8",
        "--json",
    ]));
    assert_eq!(v["rows"][0]["blocks"], 4);
    assert_bad_input(
        &[
            "quantize",
            "--input",
            g,
            "--format",
            "mxfp4",
            "--block-size",
            "0",
        ],
        "block size 0 must be 1..=4096",
    );
    assert_bad_input(
        &[
            "quantize",
            "--input",
            g,
            "--format",
            "mxfp4",
            "--input-format",
            "bf16",
        ],
        "--input-format says bf16",
    );
    // An invalid formatbook names the dialect, the value and why.
    let book = d.join("b.toml");
    std::fs::write(&book, "name = \"bad\"\nunit = \"half\"\n[[dialect]]\nvalues = [0,1,2,3,4,6,8,12]\n[[dialect]]\nvalues = [0,1,2,3,4,6,8,17]\n").unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--input",
            g,
            "--format",
            "dialectfp4",
            "--formatbook",
            book.to_str().unwrap(),
        ],
        "dialect 1 value 7 is 17",
    );
    // A book without the pair structure is fine for mse and refused for two-stage.
    std::fs::write(
        &book,
        "name = \"one\"\nunit = \"half\"\n[[dialect]]\nvalues = [0,1,2,3,4,6,8,12]\n",
    )
    .unwrap();
    let b = book.to_str().unwrap();
    assert!(
        blockrtl(&[
            "quantize",
            "--input",
            g,
            "--format",
            "dialectfp4",
            "--formatbook",
            b,
            "--selector",
            "mse"
        ])
        .status
        .success()
    );
    assert_bad_input(
        &[
            "quantize",
            "--input",
            g,
            "--format",
            "dialectfp4",
            "--formatbook",
            b,
            "--selector",
            "two-stage",
        ],
        "two-stage selector needs",
    );
    // Unknown format and bad frac bits are caught by the argument parser (also exit 2).
    assert_eq!(
        blockrtl(&["quantize", "--input", g, "--format", "mxfp5"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        blockrtl(&[
            "quantize",
            "--input",
            g,
            "--format",
            "dialectfp4",
            "--frac-bits",
            "40"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn uint16_npy_needs_input_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "b.npy",
        InputFormat::Bf16,
        &[("b", vec![32], vec![0x4000; 32])],
    );
    assert_bad_input(
        &[
            "quantize",
            "--input",
            p.to_str().unwrap(),
            "--format",
            "mxfp4",
        ],
        "--input-format bf16 or f16",
    );
    let v = json(&blockrtl(&[
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "mxfp4",
        "--input-format",
        "bf16",
        "--json",
    ]));
    assert_eq!(v["rows"][0]["mse"], 0.0, "2.0 is exact in MXFP4");
}

#[test]
fn output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let raw = blockrtl::stimulus::tensor(
        blockrtl::stimulus::Dist::Outlier,
        300,
        96,
        InputFormat::F32,
        9,
    )
    .unwrap();
    let p = write(
        dir.path(),
        "o.npy",
        InputFormat::F32,
        &[("o", vec![300, 96], raw)],
    );
    let args = [
        "quantize",
        "--input",
        p.to_str().unwrap(),
        "--format",
        "dialectfp4",
        "--format",
        "mxfp6_e2m3",
        "--json",
    ];
    let a = blockrtl(&args);
    let b = blockrtl(&args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}

/// `--dequantized`: the values are each block's scale x element, checked here from the
/// `--codes` lines with an INT8 decode written out (code / 64 x 2^(scale - 127)), padding
/// dropped, in the input's dtype and shape.
#[test]
fn dequantized_tensor_is_scale_times_element_from_the_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = blockrtl::stimulus::rng(11);
    let raw: Vec<u32> = (0..3 * 45)
        .map(|_| (common_normal(&mut r) as f32 * 0.05).to_bits())
        .collect();
    let input = write(
        dir.path(),
        "w.npy",
        InputFormat::F32,
        &[("w", vec![3, 45], raw)],
    );
    let (codes, deq) = (dir.path().join("c.jsonl"), dir.path().join("d.npy"));
    let out = blockrtl(&[
        "quantize",
        "--format",
        "mxint8",
        "--block-size",
        "16",
        "--pad",
        "--input",
        input.to_str().unwrap(),
        "--codes",
        codes.to_str().unwrap(),
        "--dequantized",
        deq.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = &blockrtl::io::load(&deq, &Default::default())
        .unwrap()
        .tensors[0];
    assert_eq!((t.shape.clone(), t.dtype), (vec![3, 45], InputFormat::F32));
    let mut want = Vec::new();
    for line in std::fs::read_to_string(&codes).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let scale = 2f64.powi(v["scale"].as_i64().unwrap() as i32 - 127);
        for c in v["codes"].as_array().unwrap() {
            want.push((f64::from(c.as_u64().unwrap() as u8 as i8) / 64.0 * scale) as f32);
        }
    }
    // Three rows of three blocks of 16: the last three elements of each row are padding.
    let want: Vec<u32> = want
        .chunks(48)
        .flat_map(|row| row[..45].iter().map(|x| x.to_bits()))
        .collect();
    assert_eq!(t.bits, want);
}

/// Quantizing a dequantized tensor again in the same format loses nothing (MSE 0), for every
/// format and the input dtypes a safetensors file holds, tensor names kept.
#[test]
fn dequantized_tensors_quantize_again_without_error() {
    let dir = tempfile::tempdir().unwrap();
    for dtype in ["f32", "bf16", "f16"] {
        let input = dir.path().join(format!("w-{dtype}.safetensors"));
        let made = blockrtl(&[
            "make-tensor",
            "--out",
            input.to_str().unwrap(),
            "--shape",
            "16x64",
            "--count",
            "2",
            "--dtype",
            dtype,
            "--dist",
            "outlier",
        ]);
        assert!(made.status.success());
        // Not nvfp4: its block scale is not a power of two, so a requantized block can take a
        // smaller scale (a subnormal UE4M3 scale that rounded up leaves the largest code at 4)
        // and its tensor scale is recomputed from the new maximum.
        for f in blockrtl::quantize::FORMAT_NAMES
            .into_iter()
            .filter(|&f| f != "nvfp4")
        {
            let deq = dir.path().join(format!("d-{dtype}-{f}.safetensors"));
            let args = ["--format", f, "--input"];
            let out = blockrtl(
                &[
                    &["quantize"][..],
                    &args,
                    &[
                        input.to_str().unwrap(),
                        "--dequantized",
                        deq.to_str().unwrap(),
                        "--selector",
                        "mse",
                        "--frac-bits",
                        "exact",
                    ],
                ]
                .concat(),
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let again = json(&blockrtl(&[
                "quantize",
                "--format",
                f,
                "--input",
                deq.to_str().unwrap(),
                "--selector",
                "mse",
                "--frac-bits",
                "exact",
                "--json",
            ]));
            let names: Vec<&str> = again["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["tensor"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["layer0.weight", "layer1.weight"], "{dtype} {f}");
            assert_eq!(again["totals"][0]["mse"], 0.0, "{dtype} {f}: {again}");
        }
    }
}

#[test]
fn dequantized_bad_requests_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "w.npy",
        InputFormat::F32,
        &[("w", vec![32], f32s(&[1.0; 32]))],
    );
    let i = input.to_str().unwrap();
    let d = dir.path().join("d.npy");
    assert_bad_input(
        &[
            "quantize",
            "--format",
            "mxfp4",
            "--format",
            "mxint8",
            "--input",
            i,
            "--dequantized",
            d.to_str().unwrap(),
        ],
        "exactly one --format",
    );
    assert_bad_input(
        &[
            "quantize",
            "--format",
            "mxfp4",
            "--input",
            i,
            "--dequantized",
            "d.txt",
        ],
        ".npy or .safetensors",
    );
    std::fs::write(&d, b"mine").unwrap();
    assert_bad_input(
        &[
            "quantize",
            "--format",
            "mxfp4",
            "--input",
            i,
            "--dequantized",
            d.to_str().unwrap(),
        ],
        "refusing to overwrite",
    );
    assert_eq!(std::fs::read(&d).unwrap(), b"mine");
}

fn common_normal(r: &mut rand_pcg::Pcg64) -> f64 {
    use rand::RngExt;
    let (u, v): (f64, f64) = (r.random::<f64>().max(1e-300), r.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

// NVFP4: the tensor scale (computed or given), the `--codes` lines, the dequantized tensor,
// `--compare-variants`, and bad input.

/// A 4 x 64 tensor with an infinity in block 0 (so the finite maximum is what sets s_t).
fn tensor() -> Vec<u32> {
    let mut r = blockrtl::stimulus::rng(9);
    let mut v: Vec<u32> = (0..256)
        .map(|_| {
            let x: f32 = rand::RngExt::random::<f32>(&mut r) - 0.5;
            (x * 0.3).to_bits()
        })
        .collect();
    v[3] = f32::INFINITY.to_bits();
    v[77] = (-1.7f32).to_bits();
    v
}

#[test]
fn tensor_scale_codes_and_dequantized_values() {
    let dir = tempfile::tempdir().unwrap();
    let bits = tensor();
    let input = write(
        dir.path(),
        "w.npy",
        InputFormat::F32,
        &[("w", vec![4, 64], bits.clone())],
    );
    let codes = dir.path().join("codes.jsonl");
    let deq = dir.path().join("deq.npy");
    let out = blockrtl(&[
        "quantize",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "nvfp4",
        "--codes",
        codes.to_str().unwrap(),
        "--dequantized",
        deq.to_str().unwrap(),
        "--json",
    ]);
    let r = json(&out);
    // NVFP4's own block size, 16, when none is given.
    assert_eq!(r["block_size"], 16);
    assert_eq!(r["rows"][0]["blocks"], 16);
    assert_eq!(r["rows"][0]["nan_blocks"], 1);
    // s_t = RNE(amax / 2688) over the finite elements (1.7 here); f64 division rounded once to
    // f32 is the correctly rounded FP32 quotient.
    let s_t = ((1.7f32 as f64) / 2688.0) as f32;
    assert_eq!(
        r["rows"][0]["tensor_scale"]["bits"],
        format!("{:#010x}", s_t.to_bits())
    );
    // Every --codes line carries the block scale and the tensor scale; values decode to
    // s_t x s_b x element exactly, which the dequantized float32 tensor holds (each product has
    // at most 4 + 4 + 24 bits... and here rounds once to FP32).
    let text = std::fs::read_to_string(&codes).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 16);
    let deq_vals = blockrtl::io::load(&deq, &Default::default())
        .unwrap()
        .tensors[0]
        .bits
        .clone();
    let e2m1 = [0.0f64, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0];
    for (b, line) in lines.iter().enumerate() {
        assert_eq!(line["tensor_scale"], format!("{:#010x}", s_t.to_bits()));
        let scale = line["scale"].as_u64().unwrap() as u32;
        let codes: Vec<u32> = line["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as u32)
            .collect();
        if b == 0 {
            assert_eq!(scale, 0x7f, "the infinity marks block 0");
            assert!(codes.iter().all(|&c| c == 0));
            assert!(deq_vals[..16].iter().all(|&v| f32::from_bits(v).is_nan()));
            continue;
        }
        let (e, m) = ((scale >> 3) as i32, f64::from(scale & 7));
        let sb = if e == 0 {
            m * 2f64.powi(-9)
        } else {
            (8.0 + m) * 2f64.powi(e - 10)
        };
        for (i, &c) in codes.iter().enumerate() {
            let v = e2m1[(c & 7) as usize] * sb * f64::from(s_t);
            let v = if c & 8 != 0 { -v } else { v };
            let got = f32::from_bits(deq_vals[b * 16 + i]);
            assert_eq!(got, v as f32, "block {b} element {i}");
            assert_eq!(got.is_sign_negative(), c & 8 != 0);
        }
    }
}

#[test]
fn a_given_tensor_scale_is_used_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "w.npy",
        InputFormat::F32,
        &[("w", vec![4, 64], tensor())],
    );
    for (arg, bits) in [("0.001", 0.001f32.to_bits()), ("0x3a800000", 0x3a80_0000)] {
        let r = json(&blockrtl(&[
            "quantize",
            "--input",
            input.to_str().unwrap(),
            "--format",
            "nvfp4",
            "--tensor-scale",
            arg,
            "--json",
        ]));
        let want = format!("{bits:#010x}");
        assert_eq!(r["nvfp4"]["tensor_scale"]["bits"], want);
        assert_eq!(r["rows"][0]["tensor_scale"]["bits"], want);
    }
}

#[test]
fn compare_variants_counts_differences_from_exact() {
    let dir = tempfile::tempdir().unwrap();
    // Ties: s_t = 1 (given), blocks whose maximum is 6 x s_b and whose other elements sit on
    // E2M1 midpoints of that s_b; plus an all-zero block (modelopt gives it scale 1.0) and the
    // infinity (te saturates it, modelopt makes the scale NaN).
    let mut v = Vec::new();
    for sb in [1.5f32, 1.25, 0.875, 3.5e-3, 0.01953125, 2.75, 96.0, 112.0] {
        v.push(6.0 * sb);
        for m in [0.25f32, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0] {
            v.push(m * sb);
            v.push(-m * sb);
        }
        v.push(0.0);
    }
    v.extend([0.0f32; 16]);
    v.extend(
        [f32::INFINITY, 1.0, -2.0, 0.5]
            .iter()
            .chain([0.25f32; 12].iter()),
    );
    let bits: Vec<u32> = v.iter().map(|x| x.to_bits()).collect();
    let n = bits.len();
    let input = write(
        dir.path(),
        "ties.npy",
        InputFormat::F32,
        &[("w", vec![1, n], bits)],
    );
    let r = json(&blockrtl(&[
        "quantize",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "nvfp4",
        "--tensor-scale",
        "1",
        "--compare-variants",
        "--json",
    ]));
    let variants = r["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    for v in variants {
        assert_eq!(v["blocks"], (n / 16) as u64);
        // The infinity block at least (te writes 448 and +-6 codes where exact marks NaN).
        assert!(v["blocks_differ"].as_u64().unwrap() >= 1, "{v}");
        assert!(v["first_difference"]["block"].is_u64());
    }
    let modelopt = variants.iter().find(|v| v["rule"] == "modelopt").unwrap();
    // The all-zero block gets scale 1.0 (0x38) from modelopt; the infinity block has a NaN
    // scale under both, but modelopt's codes are 7 where exact writes 0.
    assert!(
        modelopt["blocks_differ"].as_u64().unwrap() >= 2,
        "{modelopt}"
    );
    assert!(
        modelopt["scales_differ"].as_u64().unwrap() >= 1,
        "{modelopt}"
    );
}

#[test]
fn bad_nvfp4_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "w.npy",
        InputFormat::F32,
        &[("w", vec![4, 64], tensor())],
    );
    let i = input.to_str().unwrap();
    for (s, needle) in [
        ("-1", "positive finite"),
        ("0", "positive finite"),
        ("0x7f800000", "positive finite"),
        ("0x7fc00000", "positive finite"),
    ] {
        assert_bad_input(
            &[
                "quantize",
                "--input",
                i,
                "--format",
                "nvfp4",
                "--tensor-scale",
                s,
            ],
            needle,
        );
    }
    // Values clap parses are refused by clap (exit 2, with its usage hint).
    for (args, needle) in [
        (["--tensor-scale", "lots"], "not a number"),
        (["--nvfp4-rule", "tf"], "'tf'"),
    ] {
        let out = blockrtl(&[&["quantize", "--input", i, "--format", "nvfp4"][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle) && !err.contains("panicked"), "{err}");
    }
    assert_bad_input(
        &[
            "quantize",
            "--input",
            i,
            "--format",
            "mxfp4",
            "--compare-variants",
        ],
        "add --format nvfp4",
    );
    // 64 does not split into blocks of 24.
    assert_bad_input(
        &[
            "quantize",
            "--input",
            i,
            "--format",
            "nvfp4",
            "--block-size",
            "24",
        ],
        "not a multiple of the block size 24",
    );
}
