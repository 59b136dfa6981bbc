//! Co-simulation of the MX quantizer against the golden model: a representative subset of
//! configurations, with random stalls on both sides, every stimulus distribution.

mod common;

use blockrtl::cosim::{self, CosimOptions};
use blockrtl::format::{ElementFormat, InputFormat, ScaleRule};
use blockrtl::stimulus::Dist;
use blockrtl::units::MxQuantizerParams;
use blockrtl::units::Unit;

fn p(
    format: ElementFormat,
    input: InputFormat,
    k: usize,
    lanes: usize,
    pipeline: usize,
    ftz: bool,
    rule: ScaleRule,
) -> MxQuantizerParams {
    MxQuantizerParams {
        format,
        block_size: k,
        input_format: input,
        lanes: Some(lanes),
        pipeline,
        flush_subnormals: ftz,
        scale_rule: rule,
    }
}

/// Every element format, every input format, one block per beat and several beats per block,
/// pipelines from a combinational core to six stages, and the flush option; each with both
/// scale rules (every format under floor and under rceil).
fn subset() -> Vec<MxQuantizerParams> {
    use ElementFormat::*;
    use InputFormat::*;
    use ScaleRule::*;
    vec![
        p(E2m1, F32, 32, 32, 2, false, Floor),
        p(E2m1, F32, 32, 32, 2, false, Rceil),
        p(E4m3, Bf16, 32, 8, 1, false, Floor),
        p(E4m3, Bf16, 32, 8, 1, false, Rceil),
        p(Int8, F16, 64, 16, 3, false, Floor),
        p(Int8, F16, 64, 16, 3, false, Rceil),
        p(E5m2, F32, 8, 8, 0, false, Floor),
        p(E5m2, F32, 8, 8, 0, false, Rceil),
        p(E3m2, Bf16, 16, 16, 4, true, Floor),
        p(E3m2, Bf16, 16, 16, 4, true, Rceil),
        p(E2m3, F16, 32, 32, 6, false, Floor),
        p(E2m3, F16, 32, 32, 6, false, Rceil),
        p(E2m1, Bf16, 32, 4, 0, false, Floor),
        p(E2m1, Bf16, 32, 4, 0, false, Rceil),
        p(Int8, F32, 32, 32, 2, true, Floor),
        p(Int8, F32, 32, 32, 2, true, Rceil),
    ]
}

fn verilator_present() -> bool {
    common::tool("verilator", "verilator").is_some()
}

fn run(unit: &MxQuantizerParams, opts: &CosimOptions) -> cosim::CosimReport {
    let r = cosim::run(&unit.check().unwrap(), opts).unwrap();
    eprintln!("{}", r.summary());
    r
}

#[test]
fn subset_matches_the_golden_model_under_stalls() {
    if !verilator_present() {
        return;
    }
    let replay_dir = tempfile::tempdir().unwrap();
    for (i, unit) in subset().iter().enumerate() {
        let opts = CosimOptions {
            blocks: 25_000,
            seed: 100 + i as u64,
            stall_prob: 0.25,
            dists: Dist::ALL.to_vec(),
            replay_dir: replay_dir.path().to_path_buf(),
            ..CosimOptions::default()
        };
        let r = run(unit, &opts);
        assert_eq!(
            r.mismatches,
            0,
            "{}:\n{}",
            unit.top_name(),
            r.failures.join("\n")
        );
        assert!(r.replay.is_none());
    }
}

/// The numerics.md section 6 cases alone, in bulk, on the widest input and every format.
#[test]
fn edge_cases_in_bulk() {
    if !verilator_present() {
        return;
    }
    for format in ElementFormat::ALL {
        let unit = p(format, InputFormat::F32, 32, 32, 2, false, ScaleRule::Floor);
        let opts = CosimOptions {
            blocks: 20_000,
            seed: 7,
            stall_prob: 0.1,
            dists: vec![Dist::Edge],
            ..CosimOptions::default()
        };
        let r = run(&unit, &opts);
        assert_eq!(
            r.mismatches,
            0,
            "{}:\n{}",
            unit.top_name(),
            r.failures.join("\n")
        );
    }
}

/// With no stalls, the measured latency is the manifest's, and throughput is one beat a cycle.
#[test]
fn latency_and_throughput_are_as_the_manifest_says() {
    if !verilator_present() {
        return;
    }
    for unit in [
        p(
            ElementFormat::E2m1,
            InputFormat::F32,
            32,
            32,
            2,
            false,
            ScaleRule::Floor,
        ),
        p(
            ElementFormat::E4m3,
            InputFormat::Bf16,
            32,
            8,
            1,
            false,
            ScaleRule::Floor,
        ),
        p(
            ElementFormat::E2m1,
            InputFormat::Bf16,
            32,
            4,
            0,
            false,
            ScaleRule::Floor,
        ),
    ] {
        let d = unit.emit().unwrap();
        let opts = CosimOptions {
            blocks: 20_000,
            dists: vec![Dist::Normal],
            ..CosimOptions::default()
        };
        let r = run(&unit, &opts);
        assert_eq!(r.mismatches, 0);
        assert_eq!(r.first_latency, Some(i64::from(d.latency)), "{}", d.top);
        let beats = d.beats_per_block as f64;
        // One beat per cycle, plus reset, fill and drain cycles spread over 20,000 blocks.
        assert!(
            r.cycles_per_block >= beats && r.cycles_per_block < beats * 1.01,
            "{}: {}",
            d.top,
            r.cycles_per_block
        );
    }
}

/// A deliberately wrong golden expectation is caught, reported in full, and written to a
/// replay file that the harness runs standalone and fails on the same beat.
#[test]
fn a_broken_expectation_fails_with_a_replay_file() {
    if !verilator_present() {
        return;
    }
    let unit = p(
        ElementFormat::E4m3,
        InputFormat::Bf16,
        32,
        8,
        1,
        false,
        ScaleRule::Floor,
    );
    let dir = tempfile::tempdir().unwrap();
    let opts = CosimOptions {
        blocks: 20_000,
        seed: 3,
        stall_prob: 0.3,
        replay_dir: dir.path().to_path_buf(),
        corrupt_expected: Some(1234),
        ..CosimOptions::default()
    };
    let r = run(&unit, &opts);
    assert_eq!(r.mismatches, 1);
    assert!(
        r.failures[0].starts_with("block 1234: inputs (hex)"),
        "{}",
        r.failures[0]
    );
    assert!(
        r.failures[0].contains("expected scale_o="),
        "{}",
        r.failures[0]
    );
    let replay = r.replay.expect("a replay file");
    assert!(replay.is_file());
    let built = cosim::build::build(&unit.emit().unwrap(), None, None).unwrap();
    assert!(built.cached, "the run built it already");
    let (ok, text) = cosim::replay(&built.binary, &replay, None).unwrap();
    assert!(!ok, "{text}");
    // Block 1234 is beats 4936..4939 (4 beats per block); the corrupted byte is in its first.
    assert!(text.contains("output beat 4936 differs"), "{text}");
    assert!(text.contains("replay: FAIL"), "{text}");
}
