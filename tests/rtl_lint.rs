//! Every emitted configuration of the matrix passes Verilator -Wall with no warnings, Icarus
//! -g2005, and Yosys `synth` with `check -assert` and no latches.

mod common;

use blockrtl::format::{ElementFormat, InputFormat};
use blockrtl::units::MxQuantizerParams;
use rayon::prelude::*;
use std::path::Path;

/// All six formats x k in {8, 32, 64} x lanes in {k, k/4} x pipeline in {0, 2}; input formats
/// and the flush option rotate through the matrix so each appears with every format.
fn matrix() -> Vec<MxQuantizerParams> {
    let inputs = [InputFormat::F32, InputFormat::Bf16, InputFormat::F16];
    let mut v = Vec::new();
    let mut n = 0;
    for format in ElementFormat::ALL {
        for k in [8, 32, 64] {
            for lanes in [k, k / 4] {
                for pipeline in [0, 2] {
                    v.push(MxQuantizerParams {
                        format,
                        block_size: k,
                        input_format: inputs[n % 3],
                        lanes: Some(lanes),
                        pipeline,
                        flush_subnormals: n % 7 == 3,
                    });
                    n += 1;
                }
            }
        }
    }
    // Deeper pipelines place registers at every cut point, input to output.
    for pipeline in [1, 3, 4, 6] {
        for lanes in [32, 8] {
            v.push(MxQuantizerParams {
                format: ElementFormat::E4m3,
                block_size: 32,
                input_format: InputFormat::Bf16,
                lanes: Some(lanes),
                pipeline,
                flush_subnormals: false,
            });
        }
    }
    v
}

fn lint_one(dir: &Path, p: &MxQuantizerParams, tools: &Tools) {
    let d = p.emit().unwrap();
    let sub = dir.join(&d.top);
    d.write_to(&sub, false).unwrap();
    let top = d.top.as_str();
    let flist = format!("{top}.f");
    let files: Vec<String> = d.files.iter().map(|f| f.name.clone()).collect();
    let out = common::run_ok(
        &sub,
        &tools.verilator,
        &["--lint-only", "-Wall", "--top-module", top, "-f", &flist],
    );
    assert!(!out.contains("%Warning"), "{top}: {out}");
    common::run_ok(
        &sub,
        &tools.iverilog,
        &[
            "-g2005",
            "-Wall",
            "-o",
            "/dev/null",
            "-s",
            top,
            "-c",
            &flist,
        ],
    );
    let script = format!(
        "read_verilog {}; synth -top {top}; check -assert; select -assert-none t:$dlatch t:$adlatch t:$_DLATCH_*",
        files.join(" ")
    );
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
}

#[test]
fn every_config_is_lint_clean_in_three_tools() {
    let (Some(verilator), Some(iverilog), Some(yosys)) = (
        common::tool("verilator", "verilator"),
        common::tool("iverilog", "iverilog"),
        common::tool("yosys", "yosys"),
    ) else {
        return;
    };
    let tools = Tools {
        verilator,
        iverilog,
        yosys,
    };
    let dir = tempfile::tempdir().unwrap();
    let configs = matrix();
    configs
        .par_iter()
        .for_each(|p| lint_one(dir.path(), p, &tools));
    eprintln!(
        "lint matrix: {} configurations clean in verilator -Wall, iverilog -g2005, yosys synth",
        configs.len()
    );
}
