//! `cosim --wave`: the extension picks VCD or FST under both simulators, a window of blocks is
//! honoured, and a bad request is refused before anything runs.

mod common;

use std::path::Path;
use std::process::{Command, Output};

const UNIT: [&str; 6] = [
    "--unit",
    "mx-quantizer",
    "--format",
    "mxfp4",
    "--block-size",
    "8",
];

fn cosim(simulator: &str, wave: &Path, extra: &[&str]) -> Output {
    let w = wave.display().to_string();
    let mut args = vec!["cosim", "--simulator", simulator, "--blocks", "40"];
    args.extend_from_slice(&UNIT);
    args.extend_from_slice(&["--wave", &w]);
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(&args)
        .output()
        .expect("runs")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A VCD: text with its declarations ended; returns its timestamps.
fn vcd_times(path: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with('$'), "{} is not a VCD", path.display());
    assert!(text.contains("$enddefinitions"), "{}", path.display());
    text.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|t| t.parse().unwrap())
        .collect()
}

/// An FST: its first block is the header block (type 0) of 329 bytes.
fn assert_fst(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 330, "{}", path.display());
    assert_eq!(
        bytes[0],
        0,
        "{} does not open with an FST header",
        path.display()
    );
    let len = u64::from_be_bytes(bytes[1..9].try_into().unwrap());
    assert_eq!(len, 329, "{}", path.display());
}

fn check(simulator: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (vcd, fst, window) = (
        dir.path().join("run.vcd"),
        dir.path().join("run.fst"),
        dir.path().join("window.vcd"),
    );
    ok(&cosim(simulator, &vcd, &[]));
    ok(&cosim(simulator, &fst, &[]));
    ok(&cosim(
        simulator,
        &window,
        &["--wave-from", "20", "--wave-blocks", "3"],
    ));
    let all = vcd_times(&vcd);
    assert_fst(&fst);
    let part = vcd_times(&window);
    // The window starts when block 20 enters, which at one block a cycle at most is 20 clock
    // periods in (a timestamp every half period), and covers a few cycles.
    assert!(all.len() > 80, "{simulator}: {} timestamps", all.len());
    let period = 2 * (all[2] - all[1]);
    let first_change = part.iter().copied().find(|&t| t > 0).unwrap();
    assert!(first_change >= 20 * period, "{simulator}: {part:?}");
    assert!(
        part.len() < all.len() / 2,
        "{simulator}: {} of {}",
        part.len(),
        all.len()
    );
}

#[test]
fn verilator_writes_vcd_or_fst_by_extension_and_honours_the_window() {
    if common::tool("verilator", "verilator").is_none() {
        return;
    }
    check("verilator");
}

#[test]
fn icarus_writes_vcd_or_fst_by_extension_and_honours_the_window() {
    if common::tool("iverilog", "iverilog").is_none() {
        return;
    }
    check("icarus");
}

#[test]
fn a_wave_the_run_could_not_write_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    for (wave, says) in [
        (dir.path().join("no-such-folder/run.vcd"), "does not exist"),
        (dir.path().join("run.ghw"), ".vcd or .fst"),
    ] {
        let out = cosim("verilator", &wave, &[]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!wave.exists());
    }
}
