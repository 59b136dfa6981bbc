//! Co-simulation of the NVFP4 quantizer (rule `exact`, no divider) against the golden model:
//! every input format, block sizes 2 to 64, pipelines 0 to 8, subnormals kept and flushed,
//! under 25 % stalls on both sides, with the tensor scale changing from block to block (the
//! block's own default, scaled ones, random and edge patterns, invalid ones). Then mutants of
//! the rounding and range logic, each of which must mismatch: the stimulus reaches every tie
//! and every range case the hardware tells apart.

mod common;

use blockrtl::cosim::rtl::RtlSource;
use blockrtl::cosim::{self, CosimOptions};
use blockrtl::format::InputFormat;
use blockrtl::stimulus::Dist;
use blockrtl::units::{Checked, Nvfp4QuantizerParams, Unit};

fn present() -> bool {
    common::tool("verilator", "verilator").is_some()
}

fn nvq(input: InputFormat, k: usize, pipeline: usize, ftz: bool) -> Nvfp4QuantizerParams {
    Nvfp4QuantizerParams {
        block_size: k,
        input_format: input,
        lanes: None,
        pipeline,
        flush_subnormals: ftz,
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

/// Every pipeline depth once, over the three input formats and four block sizes.
fn matrix() -> Vec<Nvfp4QuantizerParams> {
    use InputFormat::{Bf16, F16, F32};
    vec![
        nvq(F32, 16, 0, false),
        nvq(Bf16, 16, 1, false),
        nvq(F16, 16, 2, false),
        nvq(F32, 2, 3, true),
        nvq(Bf16, 32, 4, true),
        nvq(F16, 64, 5, false),
        nvq(F32, 16, 6, false),
        nvq(Bf16, 4, 7, false),
        nvq(F32, 32, 8, true),
    ]
}

#[test]
fn every_input_format_block_size_and_pipeline_matches_under_stalls() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::on_two_workers(&matrix(), |seed, u| {
        let r = cosim::run(&u.check().unwrap(), &opts(100_000, seed as u64, dir.path())).unwrap();
        eprintln!("{}", r.summary());
        assert_eq!(r.mismatches, 0, "{}", r.summary());
        assert_eq!(r.blocks, 100_000);
    });
}

/// A one-line change to the generated FP32 (or FP16) design and what it breaks.
struct Mutant {
    why: &'static str,
    input: InputFormat,
    file: &'static str,
    from: &'static str,
    to: &'static str,
}

const MUTANTS: [Mutant; 13] = [
    Mutant {
        why: "element ties at 3/4 round down (the exact flag dropped)",
        input: InputFormat::F32,
        file: "_thr",
        from: "assign exact_o[0] = ",
        to: "assign exact_o[0] = 1'b0;\n  wire unused_mutant_w = ",
    },
    Mutant {
        why: "exactness of a normal theta_3 off by one bit",
        input: InputFormat::F32,
        file: "_thr",
        from: "nrm3_w ? {1'b0, tz_w} >= 7'd6",
        to: "nrm3_w ? {1'b0, tz_w} >= 7'd5",
    },
    Mutant {
        why: "exactness of a subnormal theta_3 off by one bit",
        input: InputFormat::F32,
        file: "_thr",
        from: "~far3_w & (tzfb_w >= 11'd45)",
        to: "~far3_w & (tzfb_w >= 11'd44)",
    },
    Mutant {
        why: "trailing zeros of the normalized product miss the shift",
        input: InputFormat::F32,
        file: "_thr",
        from: "wire [5:0]  tz_d_w = {1'b0, qtz_w} + {1'b0, qlz_w};",
        to: "wire [5:0]  tz_d_w = {1'b0, qtz_w};",
    },
    Mutant {
        why: "subnormal thresholds not shifted",
        input: InputFormat::F32,
        file: "_thr",
        from: "wire [4:0]  d0_w   = far0_w ? 5'd24 : dd0_w[4:0];",
        to: "wire [4:0]  d0_w   = far0_w ? 5'd24 : 5'd0;",
    },
    Mutant {
        why: "thresholds far below the subnormals kept",
        input: InputFormat::F32,
        file: "_thr",
        from: "wire [4:0]  d0_w   = far0_w ? 5'd24",
        to: "wire [4:0]  d0_w   = far0_w ? 5'd0",
    },
    Mutant {
        why: "element ties at 1/4, 5/4, 5/2 and 5 round up",
        input: InputFormat::F32,
        file: "",
        from: "wire        b0_w = mag_w > t0_w;",
        to: "wire        b0_w = mag_w >= t0_w;",
    },
    Mutant {
        why: "block scale ties at midpoint 3/2 round down",
        input: InputFormat::F32,
        file: "_scale",
        from: "wire        p1_w = l_w >=",
        to: "wire        p1_w = l_w >",
    },
    Mutant {
        why: "block scale ties at midpoint 5/2 round up",
        input: InputFormat::F32,
        file: "_scale",
        from: "wire        p2_w = l_w > (",
        to: "wire        p2_w = l_w >= (",
    },
    Mutant {
        why: "q at most 2^-10 not sent to scale 0",
        input: InputFormat::F32,
        file: "_scale",
        from: ": gpos_w ? {4'd0, cnt_w} : 8'h00;",
        to: ": {4'd0, cnt_w};",
    },
    Mutant {
        why: "scale saturates at 0x7F (NaN) instead of 448",
        input: InputFormat::F32,
        file: "_scale",
        from: "(e15_w & (cnt_w >= 4'd7))",
        to: "(e15_w & (cnt_w >= 4'd8))",
    },
    Mutant {
        why: "subnormal tensor scales not normalized",
        input: InputFormat::F32,
        file: "_tsn",
        from: "wire [23:0] sigt_w = |te_w ? {1'b1, tm_w} : tsub_w;",
        to: "wire [23:0] sigt_w = |te_w ? {1'b1, tm_w} : {1'b0, tm_w};",
    },
    Mutant {
        why: "FP16 subnormal block maxima not normalized",
        input: InputFormat::F16,
        file: "_scale",
        from: "wire [23:0] siga_w = |ae_w ? {{1'b1, am_w}, 13'd0} : {asub_w, 13'd0};",
        to: "wire [23:0] siga_w = |ae_w ? {{1'b1, am_w}, 13'd0} : {{1'b0, am_w}, 13'd0};",
    },
];

#[test]
fn every_rounding_and_range_mutant_mismatches() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::on_two_workers(&MUTANTS, |i, m| {
        let unit = nvq(m.input, 16, 2, false).check().unwrap();
        let design = unit.emit().unwrap();
        let rtl = dir.path().join(format!("m{i}"));
        common::write_mutant(&design, &rtl, m.file, m.from, m.to, m.why);
        let o = CosimOptions {
            rtl: Some(RtlSource {
                dir: rtl.clone(),
                top: None,
            }),
            ..opts(100_000, 1, &rtl)
        };
        let r = cosim::run(&unit, &o).unwrap();
        eprintln!("{}: {}", m.why, r.summary());
        assert!(
            r.mismatches > 0,
            "{}: no mismatch in {}",
            m.why,
            r.summary()
        );
    });
}
