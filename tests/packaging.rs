//! What `generate` writes for other tools works as its comments say: both Vivado scripts name
//! every file by a path that exists (run in a Tcl interpreter with Vivado's commands stubbed),
//! a failing testbench makes the simulator and FuseSoC exit non-zero, and cores with and
//! without a testbench have different names.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .output()
        .expect("runs")
}

const TOP: &str = "mxq_e2m1_bf16_k8_l8_p2";

/// A small quantizer into `dir`, with a testbench of `tb` blocks when given.
fn generate(dir: &Path, tb: Option<&str>) {
    let out = dir.display().to_string();
    let mut args = vec![
        "generate",
        "--unit",
        "mx-quantizer",
        "--format",
        "mxfp4",
        "--input-format",
        "bf16",
        "--block-size",
        "8",
        "--out",
        &out,
    ];
    if let Some(n) = tb {
        args.extend_from_slice(&["--testbench", n]);
    }
    let made = blockrtl(&args);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

fn design_files(dir: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    manifest["designs"][TOP]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

/// Source `script` from another folder with Vivado's commands replaced by ones that print what
/// they were given; returns the printed lines.
fn source_stubbed(tclsh: &Path, script: &Path, after: &str) -> Vec<String> {
    let driver = format!(
        "proc add_files {{args}} {{ puts \"add_files [lindex $args end]\" }}\n\
         proc read_verilog {{args}} {{ puts \"read_verilog [lindex $args end]\" }}\n\
         proc current_fileset {{}} {{ return sources_1 }}\n\
         proc set_property {{args}} {{ puts \"set_property $args\" }}\n\
         source {{{}}}\n{after}\n",
        script.display()
    );
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("driver.tcl"), driver).unwrap();
    let text = common::run_ok(elsewhere.path(), tclsh, &["driver.tcl"]);
    text.lines().map(String::from).collect()
}

#[test]
fn both_vivado_scripts_name_every_file_by_a_path_that_exists() {
    let Some(tclsh) = common::tool("tclsh", "tcl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), None);
    let files = design_files(dir.path());
    for (script, command, after, last) in [
        (
            format!("{TOP}_vivado.tcl"),
            "add_files",
            String::new(),
            format!("set_property top {TOP} sources_1"),
        ),
        (
            format!("{TOP}_vivado_nonproject.tcl"),
            "read_verilog",
            "puts \"top $blockrtl_top\"".to_string(),
            format!("top {TOP}"),
        ),
    ] {
        let lines = source_stubbed(&tclsh, &dir.path().join(&script), &after);
        let read: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix(&format!("{command} ")))
            .collect();
        assert_eq!(read.len(), files.len(), "{script}: {lines:?}");
        for (path, name) in read.iter().zip(&files) {
            let p = Path::new(path);
            assert!(p.is_absolute() && p.is_file(), "{script}: {path}");
            assert!(path.ends_with(name.as_str()), "{script}: {path} for {name}");
        }
        // Each mode uses its own command only.
        let other = if command == "add_files" {
            "read_verilog"
        } else {
            "add_files"
        };
        assert!(!lines.iter().any(|l| l.starts_with(other)), "{script}");
        assert_eq!(lines.last().unwrap(), &last, "{script}");
    }
}

/// Flip one expected digit of the testbench's golden vectors.
fn corrupt_expectation(dir: &Path) {
    let path = dir.join(format!("{TOP}_exp.hex"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let beat = lines.iter().position(|l| !l.starts_with("//")).unwrap() + 3;
    let last = lines[beat].pop().unwrap();
    lines[beat].push(if last == '0' { '1' } else { '0' });
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_failing_testbench_exits_non_zero_under_icarus_and_verilator() {
    let (Some(iverilog), Some(vvp), Some(verilator)) = (
        common::tool("iverilog", "iverilog"),
        common::tool("vvp", "iverilog"),
        common::tool("verilator", "verilator"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), Some("40"));
    let mut sources = design_files(dir.path());
    sources.push(format!("tb_{TOP}.v"));
    let icarus = |dir: &Path| {
        let tb = format!("tb_{TOP}");
        let mut args = vec!["-g2005", "-o", "sim.vvp", "-s", &tb];
        args.extend(sources.iter().map(String::as_str));
        common::run_ok(dir, &iverilog, &args);
        Command::new(&vvp)
            .current_dir(dir)
            .args(["-n", "sim.vvp"])
            .output()
            .unwrap()
    };
    let verilated = |dir: &Path| {
        let tb = format!("tb_{TOP}");
        let mut args = vec![
            "--binary",
            "--timing",
            "-Wno-fatal",
            "--top-module",
            &tb,
            "-o",
            "vsim",
        ];
        args.extend(sources.iter().map(String::as_str));
        common::run_ok(dir, &verilator, &args);
        Command::new(dir.join("obj_dir/vsim"))
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let good = icarus(dir.path());
    assert!(good.status.success(), "{good:?}");
    assert!(String::from_utf8_lossy(&good.stdout).contains("PASS 40 beats"));
    let good = verilated(dir.path());
    assert!(good.status.success(), "{good:?}");
    assert!(String::from_utf8_lossy(&good.stdout).contains("PASS 40 beats"));

    corrupt_expectation(dir.path());
    let bad = icarus(dir.path());
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stdout).contains("FAIL 1 of 40 beats differ"));
    let bad = verilated(dir.path());
    assert!(!bad.status.success(), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stdout).contains("FAIL 1 of 40 beats differ"));
}

#[test]
fn fusesoc_fails_a_failing_testbench_and_cores_with_and_without_one_differ() {
    if common::tool("iverilog", "iverilog").is_none() {
        return;
    }
    let Some(fusesoc) = common::venv_tool("fusesoc") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (plain, with_tb) = (root.path().join("plain"), root.path().join("tb"));
    generate(&plain, None);
    generate(&with_tb, Some("30"));
    let version = env!("CARGO_PKG_VERSION");
    let core = |dir: &Path| std::fs::read_to_string(dir.join(format!("{TOP}.core"))).unwrap();
    assert!(core(&plain).contains(&format!("name: blockrtl:generated:{TOP}:{version}\n")));
    assert!(core(&with_tb).contains(&format!("name: blockrtl:generated-tb:{TOP}:{version}\n")));
    // The flow API, not the deprecated tool API.
    assert!(core(&with_tb).contains("    flow: sim\n"));
    assert!(!core(&with_tb).contains("default_tool"));

    let tb_core = format!("blockrtl:generated-tb:{TOP}:{version}");
    let run = |core: &str| {
        Command::new(&fusesoc)
            .current_dir(root.path())
            .args(["--cores-root", ".", "run", "--target", "sim", core])
            .output()
            .unwrap()
    };
    // Both folders under one cores root: no name collision, and the testbench core runs.
    let good = run(&tb_core);
    let text =
        String::from_utf8_lossy(&good.stdout).to_string() + &String::from_utf8_lossy(&good.stderr);
    assert!(good.status.success(), "{text}");
    assert!(text.contains("PASS 30 beats"), "{text}");
    assert!(!text.contains("deprecated"), "{text}");

    corrupt_expectation(&with_tb);
    // FuseSoC copies the vector files into its build folder; start from a clean one.
    std::fs::remove_dir_all(root.path().join("build")).ok();
    let bad = run(&tb_core);
    let text =
        String::from_utf8_lossy(&bad.stdout).to_string() + &String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success(), "{text}");
    assert!(text.contains("FAIL 1 of 30 beats differ"), "{text}");
}
