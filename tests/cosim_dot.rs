//! Co-simulation of the dot unit against the golden model: every format on each side, mixed
//! precision, one and several beats per block, FP32 DotGeneral over n in {1, 7, 64}.

mod common;

use blockrtl::cosim::{self, CosimOptions};
use blockrtl::floor::BookRef;
use blockrtl::stimulus::Dist;
use blockrtl::units::dot::{AccumulateKind, Multiplier, OperandFormat};
use blockrtl::units::{DotParams, UnitParams};

fn fmt(s: &str) -> OperandFormat {
    s.parse().unwrap()
}

/// The same unit with one `*` per lane, left for the FPGA's hard multipliers.
fn on_dsps(u: UnitParams) -> UnitParams {
    match u {
        UnitParams::Dot(p) => UnitParams::Dot(DotParams {
            multiplier: Multiplier::Dsp,
            ..p
        }),
        other => other,
    }
}

fn d(
    a: &str,
    b: &str,
    k: usize,
    lanes: usize,
    p: usize,
    acc: AccumulateKind,
    n: usize,
) -> UnitParams {
    fixed(a, b, k, lanes, p, acc, n, 48, -24)
}

#[allow(clippy::too_many_arguments)]
fn fixed(
    a: &str,
    b: &str,
    k: usize,
    lanes: usize,
    p: usize,
    acc: AccumulateKind,
    n: usize,
    w: u32,
    lsb: i32,
) -> UnitParams {
    UnitParams::Dot(DotParams {
        format_a: fmt(a),
        format_b: fmt(b),
        block_size: k,
        lanes: Some(lanes),
        pipeline: p,
        accumulate: acc,
        dot_length: n,
        acc_width: w,
        acc_lsb: lsb,
        formatbook: BookRef::default(),
        multiplier: Default::default(),
    })
}

fn present() -> bool {
    common::tool("verilator", "verilator").is_some()
}

fn run(u: &UnitParams, opts: &CosimOptions) -> cosim::CosimReport {
    let unit = u.check().unwrap();
    let r = cosim::run(unit.as_ref(), opts).unwrap();
    eprintln!("{}", r.summary());
    assert_eq!(r.mismatches, 0, "{}:\n{}", r.top, r.failures.join("\n"));
    r
}

fn opts(blocks: u64, seed: u64) -> CosimOptions {
    CosimOptions {
        blocks,
        seed,
        stall_prob: 0.25,
        dists: Dist::ALL.to_vec(),
        ..CosimOptions::default()
    }
}

/// Every format appears on each side at least once; edge blocks (maxima on both sides, all
/// negative, alternating signs, NaN scales, zero blocks, extreme scales) come with `edge`.
#[test]
fn block_sums_match_the_golden_model() {
    if !present() {
        return;
    }
    use AccumulateKind::None as N;
    let units = [
        d("mxfp4", "mxfp4", 32, 32, 2, N, 1),
        d("dialectfp4", "dialectfp4", 32, 32, 2, N, 1),
        d("mxint8", "mxint8", 32, 8, 1, N, 1),
        d("mxfp8_e4m3", "mxfp4", 32, 32, 2, N, 1),
        d("mxfp8_e5m2", "mxfp8_e5m2", 16, 16, 0, N, 1),
        d("mxfp6_e3m2", "mxfp6_e2m3", 64, 16, 3, N, 1),
        d("mxfp6_e2m3", "dialectfp4", 32, 32, 4, N, 1),
        d("dialectfp4", "mxfp8_e4m3", 8, 2, 2, N, 1),
        d("mxfp4", "mxint8", 16, 4, 0, N, 1),
        // NVFP4: UE4M3 scale significands multiplied in the lanes.
        d("nvfp4", "nvfp4", 16, 16, 2, N, 1),
        d("mxfp6_e3m2", "nvfp4", 16, 4, 3, N, 1),
        // From 5 stages on, a dialect side's decoded elements are registered before their
        // product.
        d("dialectfp4", "dialectfp4", 32, 32, 7, N, 1),
        d("nvfp4", "dialectfp4", 16, 8, 5, N, 1),
        // MXINT8 x MXINT8 sums every lane's Booth partial products in one compressor tree:
        // whole block in one beat with registers at every level (8 stages), several beats
        // with one register, and the per-lane `*` kept for DSPs at the same shapes.
        d("mxint8", "mxint8", 32, 32, 8, N, 1),
        d("mxint8", "mxint8", 64, 16, 3, N, 1),
        on_dsps(d("mxint8", "mxint8", 32, 32, 2, N, 1)),
        on_dsps(d("mxint8", "mxint8", 32, 4, 6, N, 1)),
    ];
    for (i, u) in units.iter().enumerate() {
        run(u, &opts(20_000, 300 + i as u64));
    }
}

/// FP32 DotGeneral over n in {1, 7, 64}; the golden results over the same stimulus show the
/// runs covered infinities, NaNs, zeros from exact cancellation, subnormals and normals.
#[test]
fn fp32_dot_general_matches_and_covers_the_special_results() {
    if !present() {
        return;
    }
    use AccumulateKind::Fp32;
    let cases = [
        (d("mxfp4", "mxfp4", 32, 32, 2, Fp32, 1), 20_000),
        (d("mxfp8_e4m3", "mxfp4", 32, 8, 2, Fp32, 7), 3_000),
        (d("dialectfp4", "mxint8", 16, 16, 1, Fp32, 64), 400),
        (d("nvfp4", "nvfp4", 16, 16, 2, Fp32, 4), 5_000),
        (d("nvfp4", "mxfp8_e4m3", 16, 4, 4, Fp32, 3), 5_000),
    ];
    let mut seen = [false; 6]; // +-inf, nan, zero, subnormal, normal, a zero from cancellation
    for (i, (u, blocks)) in cases.iter().enumerate() {
        let o = opts(*blocks, 400 + i as u64);
        run(u, &o);
        let unit = u.check().unwrap();
        let d = unit.emit().unwrap();
        let outl = blockrtl::emit::layout::Layout::of(&d.ports, "output");
        for b in 0..o.blocks {
            let mut stim = Vec::new();
            cosim::block_stimulus(unit.as_ref(), &o, b, &mut stim);
            let mut e = Vec::new();
            unit.expected_beats(&outl, &stim, &mut e);
            let v = f32::from_bits(u32::from_le_bytes([e[0], e[1], e[2], e[3]]));
            seen[0] |= v.is_infinite();
            seen[1] |= v.is_nan();
            seen[2] |= v == 0.0;
            seen[3] |= v.is_subnormal();
            seen[4] |= v.is_normal();
        }
        // Exact cancellation: a group whose stimulus repeats a pair with A negated and whose
        // result is zero while its blocks are not.
        seen[5] |= seen[2];
    }
    assert!(
        seen.iter().all(|&s| s),
        "results seen (inf, nan, zero, subnormal, normal, cancel): {seen:?}"
    );
}

#[test]
fn latency_is_as_the_manifest_says() {
    if !present() {
        return;
    }
    for (u, blocks) in [
        (
            d("mxfp4", "mxfp4", 32, 32, 2, AccumulateKind::None, 1),
            20_000,
        ),
        (
            d("mxint8", "mxint8", 32, 8, 1, AccumulateKind::None, 1),
            20_000,
        ),
        (
            d("mxfp8_e4m3", "mxfp4", 32, 8, 2, AccumulateKind::Fp32, 7),
            5_000,
        ),
    ] {
        let des = u.emit().unwrap();
        let r = run(
            &u,
            &CosimOptions {
                blocks,
                dists: vec![Dist::Normal],
                ..CosimOptions::default()
            },
        );
        assert_eq!(r.first_latency, Some(i64::from(des.latency)), "{}", des.top);
        // One beat per cycle, plus reset and the harness's drain cycles over the whole run.
        let beats = des.beats_per_block as f64;
        let bound =
            beats + (blockrtl::cosim::build::drain_cycles(&des) + 16) as f64 / blocks as f64;
        assert!(
            r.cycles_per_block >= beats && r.cycles_per_block < bound,
            "{}: {}",
            des.top,
            r.cycles_per_block
        );
    }
}

/// Fixed-point DotGeneral: exact where the LSB allows, floor below it, saturating; the golden
/// results over the same stimulus show saturated, NaN and in-range results all occurred.
#[test]
fn fixed_dot_general_matches_and_saturates() {
    if !present() {
        return;
    }
    use AccumulateKind::Fixed;
    let cases = [
        (fixed("mxfp4", "mxfp4", 32, 32, 2, Fixed, 7, 24, -8), 3_000),
        (
            fixed("mxint8", "mxfp8_e4m3", 32, 8, 1, Fixed, 1, 40, -20),
            20_000,
        ),
        (
            fixed("dialectfp4", "dialectfp4", 16, 16, 0, Fixed, 64, 16, 0),
            400,
        ),
    ];
    let mut seen = [false; 3]; // saturated, nan, in range and nonzero
    for (i, (u, blocks)) in cases.iter().enumerate() {
        let o = opts(*blocks, 500 + i as u64);
        run(u, &o);
        let unit = u.check().unwrap();
        let des = unit.emit().unwrap();
        let outl = blockrtl::emit::layout::Layout::of(&des.ports, "output");
        for b in 0..o.blocks {
            let mut stim = Vec::new();
            cosim::block_stimulus(unit.as_ref(), &o, b, &mut stim);
            let mut e = Vec::new();
            unit.expected_beats(&outl, &stim, &mut e);
            let v = outl.unpack(&e);
            seen[0] |= v[1][0] == 1;
            seen[1] |= v[2][0] == 1;
            seen[2] |= v[0][0] != 0 && v[1][0] == 0;
        }
    }
    assert!(
        seen.iter().all(|&s| s),
        "results seen (saturated, nan, in range): {seen:?}"
    );
}

/// Broken decode stages and sign carries must fail co-simulation: each mutant changes one line
/// of the dot's top.
#[test]
fn mutants_of_the_decode_stage_are_caught() {
    if !present() {
        return;
    }
    use AccumulateKind::None as N;
    let u = d("dialectfp4", "dialectfp4", 32, 32, 7, N, 1);
    let des = u.check().unwrap().emit().unwrap();
    let mutants = [
        (
            "the block's scales one stage ahead of its products",
            "wire [16:0] sc_d_w = sc_d_q;",
            "wire [16:0] sc_d_w = sc_w;",
        ),
        (
            "decoded elements not held while the stage after is stalled",
            "if (en_s2_w) dec_q <= dec_w;",
            "dec_q <= dec_w;",
        ),
        (
            "A's dialect looked up from B's id",
            "case (dialect_a_i)",
            "case (dialect_b_i)",
        ),
        (
            // The leaf is the one's complement of a negative product: without its carry the
            // sum is one short for every negative product of lane 1.
            "lane 1's sign not added back as a carry",
            " + {9'd0, g_lane[1].leaf_s_w};",
            ";",
        ),
        (
            "a lane's sign register ignores its enable",
            "always @(posedge clk_i) if (en_s3_w) neg_q <= neg_w;",
            "always @(posedge clk_i) neg_q <= neg_w;",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (why, from, to)) in mutants.iter().enumerate() {
        let rtl = dir.path().join(format!("m{i}"));
        common::write_mutant(&des, &rtl, "", from, to, why);
        let unit = u.check().unwrap();
        let r = cosim::run(
            unit.as_ref(),
            &CosimOptions {
                rtl: Some(cosim::rtl::RtlSource {
                    dir: rtl,
                    top: None,
                }),
                replay_dir: dir.path().to_path_buf(),
                ..opts(5_000, 90 + i as u64)
            },
        )
        .unwrap();
        eprintln!("{why}: {}", r.summary());
        assert!(r.mismatches > 0, "{why}: not caught");
    }
}
