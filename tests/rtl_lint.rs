//! Every emitted configuration of the matrix passes Verilator -Wall with no warnings, Icarus
//! -g2005, Yosys `synth` with `check -assert` and no latches, and the strict slang front end
//! (declaration before use, literals that fit) with no errors and no warnings.

mod common;

use blockrtl::emit::design::Design;
use blockrtl::floor::BookRef;
use blockrtl::format::ScaleRule;
use blockrtl::format::{ElementFormat, InputFormat, ScaleFormat};
use blockrtl::golden::Selector;
use blockrtl::units::{BdQuantizerParams, BdSelectorParams, MxQuantizerParams, UnitParams};
use rayon::prelude::*;
use std::path::Path;

/// Six formats x k in {8, 32, 64}, each pair with two of the four (lanes in {k, k/4}) x
/// (pipeline in {0, 2}) shapes, alternating: every pair of parameters (format and k, format and
/// shape, k and shape) is covered, and each (k, shape) by three formats, at half the full cross
/// product's lint time. Input formats and the flush option rotate through the matrix so each
/// appears with every format.
fn mx_matrix() -> Vec<UnitParams> {
    let inputs = [InputFormat::F32, InputFormat::Bf16, InputFormat::F16];
    let mut v = Vec::new();
    let mut n = 0;
    for (fi, format) in ElementFormat::ALL.into_iter().enumerate() {
        for (ki, k) in [8, 32, 64].into_iter().enumerate() {
            // Either pair holds both lane counts and both depths.
            let shapes = [(k, 0), (k, 2), (k / 4, 2), (k / 4, 0)];
            for (si, (lanes, pipeline)) in shapes.into_iter().enumerate() {
                if (si + fi + ki) % 2 == 0 {
                    v.push(UnitParams::MxQuantizer(MxQuantizerParams {
                        format,
                        block_size: k,
                        input_format: inputs[n % 3],
                        lanes: Some(lanes),
                        pipeline,
                        // FP16 input has no FP32 subnormals to flush (validate refuses it).
                        flush_subnormals: n % 4 == 1 && inputs[n % 3] != InputFormat::F16,
                        // Every other configuration takes the rceil scale rule.
                        scale_rule: ScaleRule::ALL[n % 2],
                    }));
                    n += 1;
                }
            }
        }
    }
    // Deeper pipelines place registers at every cut point (E4M3 from BF16 with the floor rule
    // takes the exponent tree: no decode cut, no root cut): inside conversion, inside
    // the max tree (6..), at the input; multi-beat units stop at 8 stages.
    let deep = [
        (32, 1),
        (32, 3),
        (32, 4),
        (32, 5),
        (32, 6),
        (32, 9),
        (32, 12),
    ];
    let serial = [(8, 1), (8, 3), (8, 4), (8, 6), (8, 8)];
    for (lanes, pipeline) in deep.into_iter().chain(serial) {
        {
            v.push(UnitParams::MxQuantizer(MxQuantizerParams {
                format: ElementFormat::E4m3,
                block_size: 32,
                input_format: InputFormat::Bf16,
                lanes: Some(lanes),
                pipeline,
                flush_subnormals: false,
                scale_rule: ScaleRule::ALL[pipeline % 2],
            }));
        }
    }
    // FP4 converts by table and BF16/FP32 take the exponent tree: its cut points (the
    // subtraction at 3, tree levels from 4, the input at 8) on both inputs.
    for (input, pipeline) in [
        (InputFormat::Bf16, 3),
        (InputFormat::F32, 7),
        (InputFormat::Bf16, 8),
    ] {
        v.push(UnitParams::MxQuantizer(MxQuantizerParams {
            format: ElementFormat::E2m1,
            block_size: 32,
            input_format: input,
            lanes: Some(32),
            pipeline,
            flush_subnormals: false,
            scale_rule: ScaleRule::Floor,
        }));
    }
    v
}

/// BlockDialect: both selectors x k in {16, 32, 64}, each pair with two of the four (lanes in
/// {k, k/4}) x (pipeline in {0, 2}) shapes (every pair of parameters covered), input and scale
/// formats, frac bits and flushing rotating; deeper pipelines; and the selector alone.
fn bd_matrix() -> Vec<UnitParams> {
    let inputs = [InputFormat::F32, InputFormat::Bf16, InputFormat::F16];
    let mut v = Vec::new();
    let mut n = 0;
    for (sel, selector) in [Selector::TwoStage, Selector::Mse].into_iter().enumerate() {
        for (ki, k) in [16, 32, 64].into_iter().enumerate() {
            // Two of the four lane/depth shapes per (selector, k), as in the MX matrix.
            let shapes = [(k, 0), (k, 2), (k / 4, 2), (k / 4, 0)];
            for (si, (lanes, pipeline)) in shapes.into_iter().enumerate() {
                // The MSE selector at k = 64 is the matrix's slowest synthesis (80 s): one
                // shape of it is enough, the two-stage selector takes both at k = 64.
                let slow_twin = selector == Selector::Mse && k == 64 && si > 1;
                if (si + sel + ki) % 2 == 0 && !slow_twin {
                    v.push(UnitParams::BdQuantizer(BdQuantizerParams {
                        block_size: k,
                        input_format: inputs[n % 3],
                        selector,
                        frac_bits: 1 + (n % 3) as u32,
                        scale: if n % 4 == 1 {
                            ScaleFormat::E5
                        } else {
                            ScaleFormat::E8m0
                        },
                        lanes: Some(lanes),
                        pipeline,
                        formatbook: BookRef::default(),
                        flush_subnormals: n % 4 == 3 && inputs[n % 3] != InputFormat::F16,
                    }));
                    n += 1;
                }
            }
        }
        // One beat a block from 8 on: the two-stage selector's inner registers and the max
        // tree's (16 takes every cut point at k = 16), the MSE selector's gap cut and
        // max-tree cut.
        let deep: &[usize] = if selector == Selector::TwoStage {
            &[1, 3, 5, 7, 10, 16]
        } else {
            &[1, 3, 5, 7, 8]
        };
        for &pipeline in deep {
            v.push(UnitParams::BdQuantizer(BdQuantizerParams {
                block_size: 16,
                input_format: InputFormat::Bf16,
                selector,
                frac_bits: 2,
                scale: ScaleFormat::E8m0,
                lanes: Some(if pipeline == 3 { 4 } else { 16 }),
                pipeline,
                formatbook: BookRef::default(),
                flush_subnormals: false,
            }));
        }
        // The MSE selector alone at k = 64 costs 71 s and adds nothing the quantizer above
        // does not lint: it stops at 32.
        let largest = if selector == Selector::Mse { 32 } else { 64 };
        for (k, pipeline) in [(16, 0), (32, 2), (largest, 3)] {
            v.push(UnitParams::BdSelector(BdSelectorParams {
                block_size: k,
                selector,
                frac_bits: 2,
                pipeline,
                formatbook: BookRef::default(),
            }));
        }
    }
    v
}

/// Dot: format pairs (every format on each side, mixed included) with k, lanes, pipeline and
/// accumulation rotating through {8, 32, 64} x {k, k/4} x {0, 2} x {none, fp32 n = 7}.
fn dot_matrix() -> Vec<UnitParams> {
    use blockrtl::units::dot::{AccumulateKind, OperandFormat};
    let pairs = [
        ("mxfp4", "mxfp4"),
        ("dialectfp4", "dialectfp4"),
        ("mxint8", "mxint8"),
        ("mxfp8_e4m3", "mxfp4"),
        ("mxfp8_e5m2", "mxfp8_e5m2"),
        ("mxfp6_e3m2", "mxfp6_e2m3"),
        ("mxfp6_e2m3", "dialectfp4"),
        ("dialectfp4", "mxint8"),
        ("nvfp4", "nvfp4"),
        ("nvfp4", "mxfp8_e4m3"),
    ];
    let mut v = Vec::new();
    for (n, (a, b)) in pairs.into_iter().enumerate() {
        for combo in 0..4 {
            let k = [8, 32, 64][(n + combo) % 3];
            let fp32 = combo % 2 == 1;
            v.push(UnitParams::Dot(blockrtl::units::DotParams {
                format_a: a.parse::<OperandFormat>().unwrap(),
                format_b: b.parse::<OperandFormat>().unwrap(),
                block_size: k,
                lanes: Some(if combo >= 2 { k / 4 } else { k }),
                pipeline: [0, 2, 2, 0][combo] + usize::from(n % 3 == 2),
                accumulate: if fp32 {
                    AccumulateKind::Fp32
                } else {
                    AccumulateKind::None
                },
                dot_length: if fp32 { 7 } else { 1 },
                acc_width: 48,
                acc_lsb: -24,
                formatbook: BookRef::default(),
                multiplier: Default::default(),
            }));
        }
    }
    // Deep pipelines register adder-tree levels (4..) and then more after the sum.
    for (a, b, p, acc) in [
        ("mxfp4", "mxfp4", 5, AccumulateKind::None),
        ("mxint8", "mxint8", 7, AccumulateKind::None),
        ("dialectfp4", "mxfp4", 8, AccumulateKind::Fp32),
        ("mxint8", "mxint8", 3, AccumulateKind::Fp32),
    ] {
        v.push(UnitParams::Dot(blockrtl::units::DotParams {
            format_a: a.parse::<OperandFormat>().unwrap(),
            format_b: b.parse::<OperandFormat>().unwrap(),
            block_size: 32,
            lanes: None,
            pipeline: p,
            accumulate: acc,
            dot_length: if acc == AccumulateKind::Fp32 { 3 } else { 1 },
            acc_width: 48,
            acc_lsb: -24,
            formatbook: BookRef::default(),
            // The MXINT8 x MXINT8 entry at p3 keeps a `*` per lane for DSPs; the one at p7
            // is the default compressor tree.
            multiplier: if (a, p) == ("mxint8", 3) {
                blockrtl::units::dot::Multiplier::Dsp
            } else {
                Default::default()
            },
        }));
    }
    // Fixed-point accumulation, narrow and wide, LSB below and above 1.
    for (a, b, w, lsb, p) in [
        ("mxfp4", "mxfp4", 24, -8, 0),
        ("mxint8", "mxfp8_e4m3", 64, -40, 2),
        ("dialectfp4", "dialectfp4", 16, 3, 1),
    ] {
        v.push(UnitParams::Dot(blockrtl::units::DotParams {
            format_a: a.parse::<OperandFormat>().unwrap(),
            format_b: b.parse::<OperandFormat>().unwrap(),
            block_size: 32,
            lanes: Some(8),
            pipeline: p,
            accumulate: AccumulateKind::Fixed,
            dot_length: 5,
            acc_width: w,
            acc_lsb: lsb,
            formatbook: BookRef::default(),
            multiplier: Default::default(),
        }));
    }
    v
}

/// Dequantizer: every input format once per output format, lanes k and k/4, pipelines 0..=6
/// rotating (every cut point and extra output registers), k in {8, 32}, and a custom book.
fn dequantizer_matrix() -> Vec<UnitParams> {
    use blockrtl::format::{InputFormat, OperandFormat};
    let mut v = Vec::new();
    let outs = [InputFormat::F32, InputFormat::Bf16, InputFormat::F16];
    for (n, f) in OperandFormat::NAMES.into_iter().enumerate() {
        for (j, out) in outs.into_iter().enumerate() {
            let k = if (n + j) % 3 == 0 { 8 } else { 32 };
            v.push(UnitParams::Dequantizer(
                blockrtl::units::DequantizerParams {
                    format: f.parse().unwrap(),
                    block_size: k,
                    lanes: Some(if j == 1 { k / 4 } else { k }),
                    pipeline: (n + 2 * j) % 7,
                    output_format: out,
                    formatbook: BookRef::default(),
                },
            ));
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    v.push(UnitParams::Dequantizer(
        blockrtl::units::DequantizerParams {
            format: "dialectfp4".parse().unwrap(),
            block_size: 32,
            lanes: Some(8),
            pipeline: 3,
            output_format: InputFormat::Bf16,
            formatbook: BookRef::file(Some(root.join("verif/book4.toml"))),
        },
    ));
    v
}

/// NVFP4 quantizer: each input format, k in {2, 4, 8, 16} (the lanes repeat; the block logic
/// does not depend on k), pipelines 0, 2, 5 and 8 (every cut point, inner ones included, and
/// extra output registers), subnormals flushed once.
fn nvfp4_quantizer_matrix() -> Vec<UnitParams> {
    use blockrtl::format::InputFormat::{Bf16, F16, F32};
    [
        (F32, 4, 0, false),
        (Bf16, 16, 2, true),
        (F16, 8, 5, false),
        (F32, 2, 8, false),
    ]
    .into_iter()
    .map(|(input, k, p, ftz)| {
        UnitParams::Nvfp4Quantizer(blockrtl::units::Nvfp4QuantizerParams {
            block_size: k,
            input_format: input,
            lanes: None,
            pipeline: p,
            flush_subnormals: ftz,
        })
    })
    .collect()
}

/// The gemm tile: a slice, not the cross product (its parts are linted above): every element
/// family on each side, R or C = 1, K = k and K = 8k, lanes < k, a combinational dot, BF16
/// results, bubbles (N/C below the adder's distance) and none.
fn gemm_matrix() -> Vec<UnitParams> {
    [
        serde_json::json!({"format_x": "mxfp4", "format_w": "mxfp4", "block_size": 32,
            "in_features": 256, "out_features": 16, "rows": 4, "cols": 4, "input_format": "bf16"}),
        serde_json::json!({"format_x": "dialectfp4", "format_w": "dialectfp4", "block_size": 32,
            "in_features": 64, "out_features": 8, "lanes": 8, "input_format": "bf16",
            "output_format": "bf16"}),
        serde_json::json!({"format_x": "mxint8", "format_w": "mxfp8_e4m3", "block_size": 8,
            "in_features": 8, "out_features": 2, "rows": 1, "cols": 1, "pipeline": 0}),
        serde_json::json!({"format_x": "mxfp6_e3m2", "format_w": "mxfp8_e5m2", "block_size": 16,
            "in_features": 128, "out_features": 12, "rows": 3, "cols": 2, "lanes": 4,
            "input_format": "f16", "output_format": "bf16", "pipeline": 3}),
        // Results requantized (MXFP8, blocks of 16: two beats a block).
        serde_json::json!({"format_x": "mxfp4", "format_w": "dialectfp4", "block_size": 8,
            "in_features": 32, "out_features": 32, "rows": 2, "cols": 8,
            "input_format": "bf16", "requantize": "mxfp8_e4m3", "output_block_size": 16}),
        // NVFP4 on both sides: the tensor-scale port, UE4M3 block scales in the memories.
        serde_json::json!({"format_x": "nvfp4", "format_w": "nvfp4", "block_size": 16,
            "in_features": 32, "out_features": 4, "input_format": "bf16"}),
    ]
    .into_iter()
    .map(|mut v| {
        v["unit"] = "gemm".into();
        UnitParams::from_fields(v.as_object().unwrap().clone()).unwrap()
    })
    .collect()
}

fn lint_one(dir: &Path, u: &UnitParams, tools: &Tools) {
    let d: Design = u.emit().unwrap();
    let sub = dir.join(&d.top);
    blockrtl::package::Package::of(d.clone())
        .write_to(&sub, false)
        .unwrap();
    let top = d.top.as_str();
    let flist = format!("{top}.f");
    let files: Vec<String> = d.files.iter().map(|f| f.name.clone()).collect();
    // The gemm tile's AXI4-Stream wrapper is linted as a top of its own.
    let axis = blockrtl::units::gemm::axis_name(top);
    let mut tops = vec![top];
    if d.unit == "gemm" {
        tops.push(&axis);
    }
    for t in &tops {
        let out = common::run_ok(
            &sub,
            &tools.verilator,
            &["--lint-only", "-Wall", "--top-module", t, "-f", &flist],
        );
        assert!(!out.contains("%Warning"), "{t}: {out}");
        common::run_ok(
            &sub,
            &tools.iverilog,
            &["-g2005", "-Wall", "-o", "/dev/null", "-s", t, "-c", &flist],
        );
    }
    let script = format!(
        "read_verilog {}; synth -top {top}; check -assert; select -assert-none t:$dlatch t:$adlatch t:$_DLATCH_*",
        files.join(" ")
    );
    for t in &tops {
        let mut slang_args = vec![tools.slang_script.to_str().unwrap(), "--top", t];
        slang_args.extend(files.iter().map(String::as_str));
        let out = common::run_ok(&sub, &tools.python, &slang_args);
        assert!(
            !out.contains("error") && !out.contains("warning"),
            "{t}: slang: {out}"
        );
    }
    let out = common::run_ok(&sub, &tools.yosys, &["-q", "-p", &script]);
    assert!(
        !out.to_lowercase().contains("latch inferred"),
        "{top}: {out}"
    );
}

struct Tools {
    verilator: std::path::PathBuf,
    iverilog: std::path::PathBuf,
    yosys: std::path::PathBuf,
    /// The venv's Python with pyslang, and the lint script it runs.
    python: std::path::PathBuf,
    slang_script: std::path::PathBuf,
}

/// The EDA venv's Python when it has pyslang (scripts/install-eda-venv.sh); None with a reason,
/// a failure under CI=true.
fn slang_python() -> Option<std::path::PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-eda/bin/python");
    let ok = std::process::Command::new(&py)
        .args(["-c", "import pyslang"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("pyslang is required under CI=true: run scripts/install-eda-venv.sh");
    }
    eprintln!("SKIP: pyslang not found in .venv-eda (run scripts/install-eda-venv.sh)");
    None
}

#[test]
fn every_config_is_lint_clean_in_four_tools() {
    let (Some(verilator), Some(iverilog), Some(yosys), Some(python)) = (
        common::tool("verilator", "verilator"),
        common::tool("iverilog", "iverilog"),
        common::tool("yosys", "yosys"),
        slang_python(),
    ) else {
        return;
    };
    let tools = Tools {
        verilator,
        iverilog,
        yosys,
        python,
        slang_script: Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slang_lint.py"),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut configs = mx_matrix();
    configs.extend(dot_matrix());
    configs.extend(bd_matrix());
    configs.extend(dequantizer_matrix());
    configs.extend(nvfp4_quantizer_matrix());
    configs.extend(gemm_matrix());
    // BLOCKRTL_LINT_UNIT=NAME lints one unit's slice alone (while working on that unit).
    if let Ok(only) = std::env::var("BLOCKRTL_LINT_UNIT") {
        configs.retain(|u| serde_json::to_value(u).unwrap()["unit"] == only.as_str());
        assert!(!configs.is_empty(), "no configurations of unit '{only}'");
    }
    // The largest designs (BlockDialect MSE) first, so the two workers finish together.
    configs.reverse();
    configs
        .par_iter()
        .for_each(|u| lint_one(dir.path(), u, &tools));
    eprintln!(
        "lint matrix: {} configurations clean in verilator -Wall, iverilog -g2005, slang, yosys synth",
        configs.len()
    );
}
