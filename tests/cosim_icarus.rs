//! The second simulator: the generated Verilog testbench and golden vector files run under
//! Icarus (`iverilog -g2005`) for a unit of every family, catch a corrupted expectation, and
//! run through FuseSoC from the generated core.

mod common;

use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .output()
        .expect("runs")
}

fn icarus(unit: &[&str], blocks: &str) -> Output {
    let mut args = vec![
        "cosim",
        "--simulator",
        "icarus",
        "--blocks",
        blocks,
        "--stall-prob",
        "0.2",
    ];
    args.extend_from_slice(unit);
    blockrtl(&args)
}

fn assert_passes(unit: &[&str]) {
    let out = icarus(unit, "150");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{unit:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("PASS "), "{text}");
}

fn have_icarus() -> bool {
    common::tool("iverilog", "iverilog").is_some()
}

#[test]
fn mx_quantizers_pass_under_icarus() {
    if !have_icarus() {
        return;
    }
    // Deep pipeline (registers inside the max tree and the conversion), and a multi-beat one.
    assert_passes(&[
        "--unit",
        "mx-quantizer",
        "--format",
        "mxfp4",
        "--input-format",
        "bf16",
        "--pipeline",
        "6",
    ]);
    assert_passes(&[
        "--unit",
        "mx-quantizer",
        "--format",
        "mxint8",
        "--lanes",
        "8",
        "--pipeline",
        "3",
    ]);
}

#[test]
fn blockdialect_units_pass_under_icarus() {
    if !have_icarus() {
        return;
    }
    assert_passes(&[
        "--unit",
        "bd-quantizer",
        "--selector",
        "mse",
        "--lanes",
        "8",
        "--input-format",
        "bf16",
    ]);
    assert_passes(&["--unit", "bd-selector", "--selector", "two-stage"]);
}

#[test]
fn dot_units_pass_under_icarus() {
    if !have_icarus() {
        return;
    }
    assert_passes(&[
        "--unit",
        "dot",
        "--format-a",
        "dialectfp4",
        "--format-b",
        "mxfp8_e4m3",
        "--accumulate",
        "fp32",
        "--dot-length",
        "3",
    ]);
    assert_passes(&[
        "--unit",
        "dot",
        "--format-a",
        "mxint8",
        "--format-b",
        "mxint8",
        "--accumulate",
        "fixed",
        "--dot-length",
        "2",
        "--lanes",
        "8",
    ]);
}

/// The testbench compares: one flipped expected bit fails the run with the beat named.
#[test]
fn icarus_testbench_catches_a_wrong_expectation() {
    if !have_icarus() {
        return;
    }
    let out = blockrtl(&[
        "cosim",
        "--simulator",
        "icarus",
        "--blocks",
        "50",
        "--unit",
        "mx-quantizer",
        "--format",
        "mxfp4",
        "--test-corrupt-expected",
        "17",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("MISMATCH beat 17"), "{text}");
    assert!(text.contains("FAIL 1 of 50"), "{text}");
}

/// `generate` writes a FuseSoC core, a Vivado script and a Quartus IP file list naming every
/// Verilog file of the design, and the testbench when asked.
#[test]
fn generate_writes_packaging_for_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let made = blockrtl(&[
        "generate",
        "--unit",
        "bd-quantizer",
        "--selector",
        "mse",
        "--testbench",
        "20",
        "--out",
        &out,
    ]);
    assert!(made.status.success());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    let (top, entry) = manifest["designs"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let read = |name: String| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let core = read(format!("{top}.core"));
    let tcl = read(format!("{top}_vivado.tcl"));
    let nonproject = read(format!("{top}_vivado_nonproject.tcl"));
    let qip = read(format!("{top}.qip"));
    assert!(core.starts_with("CAPI=2:\n"));
    assert!(core.contains(&format!("toplevel: tb_{top}")));
    for f in entry["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        assert!(
            core.contains(&format!("      - {name}\n")),
            "{name} in core"
        );
        assert!(
            tcl.contains(&format!(
                "add_files -norecurse [file join $blockrtl_dir {name}]"
            )),
            "{name} in tcl"
        );
        assert!(
            nonproject.contains(&format!("read_verilog [file join $blockrtl_dir {name}]")),
            "{name} in the non-project tcl"
        );
        assert!(qip.contains(&format!("\"{name}\"")), "{name} in qip");
    }
    for v in [format!("{top}_in.hex"), format!("{top}_exp.hex")] {
        let text = read(v.clone());
        // A banner line and one beat a line: 20 blocks of one beat each.
        assert_eq!(text.lines().count(), 21, "{v}");
        assert!(core.contains(&format!("copyto: {v}")));
    }
}

#[test]
fn fusesoc_runs_the_generated_core_under_icarus_and_verilator() {
    if !have_icarus() || common::tool("verilator", "verilator").is_none() {
        return;
    }
    let Some(fusesoc) = common::venv_tool("fusesoc") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rtl = dir.path().join("rtl");
    let made = blockrtl(&[
        "generate",
        "--unit",
        "dot",
        "--format-a",
        "mxfp4",
        "--format-b",
        "dialectfp4",
        "--testbench",
        "60",
        "--out",
        &rtl.display().to_string(),
    ]);
    assert!(made.status.success());
    let top = "dot_e2m1xbd4_k32_l32_p2_none";
    let core = format!("blockrtl:generated-tb:{top}:{}", env!("CARGO_PKG_VERSION"));
    let sim = common::run_ok(
        dir.path(),
        &fusesoc,
        &["--cores-root", "rtl", "run", "--target", "sim", &core],
    );
    assert!(sim.contains("PASS 60 beats"), "{sim}");
    common::run_ok(
        dir.path(),
        &fusesoc,
        &["--cores-root", "rtl", "run", "--target", "lint", &core],
    );
}
