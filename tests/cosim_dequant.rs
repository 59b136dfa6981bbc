//! Co-simulation of the dequantizer against the golden model: every input format (the MX
//! formats, DialectFP4, also with a custom formatbook, and NVFP4 with its tensor scale changing
//! from block to block), one block per beat and four beats
//! per block, the three output formats, 10^5 blocks each under 25 % stalls on both sides.

mod common;

use blockrtl::cosim::{self, CosimOptions};
use blockrtl::floor::BookRef;
use blockrtl::format::{InputFormat, OperandFormat};
use blockrtl::stimulus::Dist;
use blockrtl::units::{Checked, DequantizerParams, Unit};

fn present() -> bool {
    common::tool("verilator", "verilator").is_some()
}

fn dq(format: &str, out: InputFormat, lanes: usize, pipeline: usize) -> DequantizerParams {
    DequantizerParams {
        format: format.parse().unwrap(),
        block_size: 32,
        lanes: Some(lanes),
        pipeline,
        output_format: out,
        formatbook: BookRef::default(),
    }
}

fn opts(blocks: u64, seed: u64, dir: &std::path::Path) -> CosimOptions {
    CosimOptions {
        blocks,
        seed,
        stall_prob: 0.25,
        dists: Dist::ALL.to_vec(),
        replay_dir: dir.to_path_buf(),
        ..CosimOptions::default()
    }
}

/// The matrix: 8 formats x lanes {32, 8} x 3 outputs; pipelines 0..=5 spread over it (each
/// depth on every format somewhere), so every cut point is registered in some run.
fn matrix() -> Vec<DequantizerParams> {
    let mut v = Vec::new();
    let mut i = 0;
    for f in OperandFormat::NAMES {
        for lanes in [32, 8] {
            for out in [InputFormat::F32, InputFormat::Bf16, InputFormat::F16] {
                v.push(dq(f, out, lanes, i % 6));
                i += 1;
            }
        }
    }
    v
}

#[test]
fn every_format_lanes_and_output_match_under_stalls() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let units = matrix();
    assert_eq!(units.len(), 48);
    common::on_two_workers(&units, |seed, u| {
        let r = cosim::run(&u.check().unwrap(), &opts(100_000, seed as u64, dir.path())).unwrap();
        eprintln!("{}", r.summary());
        assert_eq!(r.mismatches, 0, "{}", r.summary());
        assert_eq!(r.blocks, 100_000);
    });
}

/// A four-dialect book: ids 4..15 reach the hardware in the random-code blocks and must give
/// NaN there, as the golden model says.
#[test]
fn a_custom_formatbook_matches() {
    if !present() {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let mut u = dq("dialectfp4", InputFormat::Bf16, 8, 3);
    u.formatbook = BookRef::file(Some(root.join("verif/book4.toml")));
    let r = cosim::run(&u.check().unwrap(), &opts(50_000, 7, dir.path())).unwrap();
    assert_eq!(r.mismatches, 0, "{}", r.summary());
}

/// The stimulus reaches every kind of output the rounding has: for FP16 (the narrowest range)
/// the golden values over one run hold infinities, NaNs, both zeros, subnormals and normals.
#[test]
fn stimulus_covers_every_kind_of_output() {
    // NVFP4 too: its tensor scales (edges, random, each block's own) and scale codes.
    for f in ["mxfp8_e4m3", "nvfp4"] {
        covers_every_kind_of_output(f);
    }
}

fn covers_every_kind_of_output(format: &str) {
    let u = dq(format, InputFormat::F16, 32, 2).check().unwrap();
    let d = u.emit().unwrap();
    let outl = blockrtl::emit::layout::Layout::of(&d.ports, "output");
    let o = opts(2_000, 1, std::path::Path::new("."));
    let mut seen = [false; 6]; // inf, nan, +0, -0, subnormal, normal
    for b in 0..o.blocks {
        let mut stim = Vec::new();
        cosim::block_stimulus(&u, &o, b, &mut stim);
        let mut e = Vec::new();
        u.expected_beats(&outl, &stim, &mut e);
        for h in e.chunks(2).take(32) {
            let h = u16::from_le_bytes([h[0], h[1]]);
            let v = half::f16::from_bits(h);
            seen[0] |= v.is_infinite();
            seen[1] |= v.is_nan();
            seen[2] |= h == 0;
            seen[3] |= h == 0x8000;
            seen[4] |= !v.is_normal() && v.to_bits() & 0x7fff != 0 && v.is_finite();
            seen[5] |= v.is_normal();
        }
    }
    assert!(
        seen.iter().all(|&s| s),
        "{format}: inf, nan, +0, -0, subnormal, normal: {seen:?}"
    );
}

#[test]
fn latency_and_throughput_are_as_the_manifest_says() {
    if !present() {
        return;
    }
    for u in [
        dq("mxfp4", InputFormat::F32, 32, 4),
        dq("mxint8", InputFormat::Bf16, 8, 1),
    ] {
        let des = u.emit().unwrap();
        let r = cosim::run(
            &u.check().unwrap(),
            &CosimOptions {
                blocks: 10_000,
                dists: vec![Dist::Normal],
                ..CosimOptions::default()
            },
        )
        .unwrap();
        assert_eq!(r.first_latency, Some(i64::from(des.latency)), "{}", des.top);
        let beats = des.beats_per_block as f64;
        let bound = beats + (cosim::build::drain_cycles(&des) + 16) as f64 / 10_000.0;
        assert!(
            r.cycles_per_block >= beats && r.cycles_per_block < bound,
            "{}",
            r.summary()
        );
    }
}
