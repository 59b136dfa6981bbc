//! `blockrtl prove`: a small matrix of proofs (every unit, parallel and serial, every property
//! that applies) that must hold, and one mutant per property that must fail with a trace, so a
//! passing proof is known to mean something. The larger matrix is `scripts/prove-matrix.sh`.

mod common;

use blockrtl::format::{ElementFormat, InputFormat};
use blockrtl::prove::{Engine, Outcome, Property, ProveOptions, prove};
use blockrtl::units::{MxQuantizerParams, UnitParams};

fn fields(v: serde_json::Value) -> UnitParams {
    UnitParams::from_fields(v.as_object().unwrap().clone()).unwrap()
}

fn present() -> bool {
    common::tool("yosys", "yosys").is_some()
        && common::tool("yosys-abc", "yosys").is_some()
        && common::tool("yosys-smtbmc", "yosys").is_some()
        && common::venv_tool("yices-smt2").is_some()
}

fn opts(depth: u32, trace_dir: &std::path::Path) -> ProveOptions {
    ProveOptions {
        depth,
        engine: Engine::Auto,
        properties: Vec::new(),
        rtl: None,
        trace_dir: trace_dir.to_path_buf(),
        timeout_s: 300,
        jobs: 1,
    }
}

fn mxq(format: ElementFormat, input: InputFormat, k: usize, lanes: usize, p: usize) -> UnitParams {
    UnitParams::MxQuantizer(MxQuantizerParams {
        format,
        block_size: k,
        input_format: input,
        lanes: Some(lanes),
        pipeline: p,
        flush_subnormals: false,
        scale_rule: Default::default(),
    })
}

/// Small configurations of every unit: parallel and serial, shallow and deep (global-stall)
/// pipelines, each operand kind.
fn matrix() -> Vec<UnitParams> {
    vec![
        mxq(ElementFormat::E2m1, InputFormat::Bf16, 4, 4, 2),
        // Serial (two beats a block), FP8 codes, FP16 input.
        mxq(ElementFormat::E4m3, InputFormat::F16, 4, 2, 3),
        // INT8's -128, a pipeline deep enough to stall as one.
        mxq(ElementFormat::Int8, InputFormat::F32, 2, 2, 6),
        fields(
            serde_json::json!({"unit": "bd-quantizer", "block_size": 4, "lanes": 2,
            "input_format": "bf16", "pipeline": 1}),
        ),
        fields(serde_json::json!({"unit": "bd-selector", "block_size": 4, "pipeline": 1})),
        fields(
            serde_json::json!({"unit": "dot", "format_a": "mxfp4", "format_b": "mxfp4",
            "block_size": 4, "lanes": 2, "pipeline": 2}),
        ),
        fields(
            serde_json::json!({"unit": "dequantizer", "format": "mxfp4", "block_size": 4,
            "lanes": 2, "pipeline": 2}),
        ),
    ]
}

#[test]
fn every_property_holds_on_a_matrix_of_small_units() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let units = matrix();
    common::on_two_workers(&units, |_, u| {
        let unit = u.check().unwrap();
        let report = prove(unit.as_ref(), &opts(6, dir.path())).unwrap();
        for l in report.lines() {
            eprintln!("{}: {l}", report.top);
        }
        assert!(
            report.passed(),
            "{}:\n{}",
            report.top,
            report.lines().join("\n")
        );
        // Every unit gets the stream properties, and the pipeline miter (none is at 0 here).
        let proved: Vec<Property> = report.results.iter().map(|r| r.property).collect();
        for p in [
            Property::Reset,
            Property::ValidHeld,
            Property::Stable,
            Property::Count,
            Property::Pipeline,
        ] {
            assert!(
                proved.contains(&p),
                "{}: {} not proved",
                report.top,
                p.name()
            );
        }
    });
    // No failure, so no trace was written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Every input of a k = 2 MXFP4 to FP16 dequantizer (2^16: one scale, two codes) against the
/// golden model's table of 2^12 values per lane.
#[test]
fn the_mxfp4_dequantizer_matches_the_golden_table_on_every_input() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dqz_fp4().check().unwrap();
    let mut o = opts(4, dir.path());
    o.properties = vec![Property::Table];
    let report = prove(unit.as_ref(), &o).unwrap();
    assert!(report.passed(), "{}", report.lines().join("\n"));
    assert_eq!(report.results[0].outcome, Outcome::Proved);
}

/// The NVFP4 quantizer's stream and NaN properties. Its pipeline miter (two copies of the
/// scale and threshold products) does not finish in minutes, even at k = 2: the script's matrix
/// states how far it gets.
#[test]
fn the_nvfp4_quantizer_keeps_its_stream_and_nan_rule() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = fields(
        serde_json::json!({"unit": "nvfp4-quantizer", "block_size": 2,
        "input_format": "bf16", "pipeline": 2}),
    )
    .check()
    .unwrap();
    let mut o = opts(6, dir.path());
    o.properties = vec![
        Property::Reset,
        Property::ValidHeld,
        Property::Stable,
        Property::Count,
        Property::NanScale,
    ];
    o.jobs = 2;
    let report = prove(unit.as_ref(), &o).unwrap();
    assert!(report.passed(), "{}", report.lines().join("\n"));
    assert_eq!(report.results.len(), 5);
}

/// The gemm tile (memories flattened for the solvers): its stream properties, the capacity
/// its banks and queue allow, and the miter refused with its reason (the tile at pipeline 0
/// buffers less, so it cannot keep pace).
#[test]
fn the_gemm_tile_keeps_its_stream() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = fields(
        serde_json::json!({"unit": "gemm", "format_x": "mxfp4", "format_w": "mxfp4",
        "block_size": 2, "in_features": 4, "out_features": 2, "rows": 1, "cols": 1,
        "pipeline": 1}),
    )
    .check()
    .unwrap();
    // The bound reaches past the tile's latency, so `count` sees groups delivered, not only
    // begun.
    let depth = unit.hardware().latency() + 8;
    let mut o = opts(depth, dir.path());
    o.jobs = 2;
    let report = prove(unit.as_ref(), &o).unwrap();
    assert!(report.passed(), "{}", report.lines().join("\n"));
    let proved: Vec<Property> = report.results.iter().map(|r| r.property).collect();
    assert_eq!(
        proved,
        [
            Property::Reset,
            Property::ValidHeld,
            Property::Stable,
            Property::Count
        ]
    );
    assert!(
        report
            .lines()
            .iter()
            .any(|l| l.starts_with("pipeline") && l.contains("buffers fewer blocks")),
        "{}",
        report.lines().join("\n")
    );
}

/// A one-line change of the generated RTL that breaks one property.
struct Mutant {
    why: &'static str,
    property: Property,
    /// The unit (an mx-quantizer) and the file the change is in (suffix after the top name).
    unit: fn() -> UnitParams,
    file: &'static str,
    from: &'static str,
    to: &'static str,
}

fn mxq_fp4() -> UnitParams {
    mxq(ElementFormat::E2m1, InputFormat::Bf16, 4, 4, 2)
}

fn mxq_fp8() -> UnitParams {
    mxq(ElementFormat::E4m3, InputFormat::F16, 4, 4, 2)
}

/// FP16 out, so that small scales round (into FP32 every MXFP4 value is exact).
fn dqz_fp4() -> UnitParams {
    fields(
        serde_json::json!({"unit": "dequantizer", "format": "mxfp4", "block_size": 2,
        "output_format": "f16", "pipeline": 0}),
    )
}

const MUTANTS: [Mutant; 9] = [
    Mutant {
        why: "the output stage's valid is not reset",
        property: Property::Reset,
        unit: mxq_fp4,
        file: "",
        from: "if (!rst_ni) valid_s2_q <= 1'b0;",
        to: "if (1'b0) valid_s2_q <= 1'b0;",
    },
    Mutant {
        why: "the output stage drops its valid on a stall",
        property: Property::ValidHeld,
        unit: mxq_fp4,
        file: "",
        from: "else if (en_s2_w) valid_s2_q <= valid_s1_q;",
        to: "else valid_s2_q <= en_s2_w & valid_s1_q;",
    },
    Mutant {
        why: "an output register ignores its enable",
        property: Property::Stable,
        unit: mxq_fp4,
        file: "",
        from: "always @(posedge clk_i) if (en_s2_w) code_s2_q <= code_w;",
        to: "always @(posedge clk_i) code_s2_q <= code_w;",
    },
    Mutant {
        why: "ready_o tied high: a full pipeline overwrites (drops) a block",
        property: Property::Count,
        unit: mxq_fp4,
        file: "",
        from: "assign ready_o = en_s1_w;",
        to: "assign ready_o = 1'b1;",
    },
    Mutant {
        why: "the output stage keeps its valid after a transfer: a block is sent twice",
        property: Property::Count,
        unit: mxq_fp4,
        file: "",
        from: "else if (en_s2_w) valid_s2_q <= valid_s1_q;",
        to: "else if (en_s2_w) valid_s2_q <= valid_s1_q | valid_s2_q;",
    },
    Mutant {
        why: "the block scale loads with the next stage's enable: blocks mix under stalls",
        property: Property::Pipeline,
        unit: mxq_fp4,
        file: "",
        from: "    if (en_s1_w) begin\n      tzm_q",
        to: "    if (en_s2_w) begin\n      tzm_q",
    },
    Mutant {
        why: "a NaN block's scale is 0xFE, not the NaN code",
        property: Property::NanScale,
        unit: mxq_fp4,
        file: "",
        from: "any_special_w ? 8'hff",
        to: "any_special_w ? 8'hfe",
    },
    Mutant {
        why: "E4M3 saturates onto the NaN pattern S.1111.111",
        property: Property::Codes,
        unit: mxq_fp8,
        file: "_cvt",
        from: "sat_w ? 7'd126",
        to: "sat_w ? 7'd127",
    },
    Mutant {
        why: "subnormal results round ties away from zero, not to even",
        property: Property::Table,
        unit: dqz_fp4,
        file: "_pack",
        from: "guard_w & (sticky_w | kept_w[0])",
        to: "guard_w",
    },
];

#[test]
fn every_property_fails_on_its_mutant_with_a_trace() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::on_two_workers(&MUTANTS, |i, m| {
        let unit = (m.unit)().check().unwrap();
        let design = unit.emit().unwrap();
        let rtl = dir.path().join(format!("m{i}"));
        common::write_mutant(&design, &rtl, m.file, m.from, m.to, m.why);
        let traces = dir.path().join(format!("t{i}"));
        let mut o = opts(8, &traces);
        o.properties = vec![m.property];
        o.rtl = Some(blockrtl::cosim::rtl::RtlSource {
            dir: rtl.clone(),
            top: None,
        });
        let report = prove(unit.as_ref(), &o).unwrap();
        assert!(
            !report.passed(),
            "{}: {} still holds:\n{}",
            m.why,
            m.property.name(),
            report.lines().join("\n")
        );
        match &report.results[0].outcome {
            Outcome::Failed { trace: Some(t), .. } => {
                let vcd = std::fs::read_to_string(t).unwrap();
                assert!(
                    vcd.contains("$enddefinitions"),
                    "{}: {} is not a VCD",
                    m.why,
                    t.display()
                );
            }
            o => panic!(
                "{}: {} gave {o:?}, not a failure with a trace",
                m.why,
                m.property.name()
            ),
        }
    });
}

#[test]
fn the_command_exits_1_on_a_failed_property_and_2_on_bad_input() {
    if !present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_blockrtl");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let base = [
        "prove",
        "--unit",
        "bd-selector",
        "--block-size",
        "2",
        "--pipeline",
        "1",
    ];
    let ok = run(&[&base[..], &["--depth", "4"]].concat());
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(text.contains("every property holds"), "{text}");
    assert!(text.contains("nan-scale   n/a"), "{text}");
    for bad in [
        &["--depth", "0"][..],
        &["--property", "liveness"][..],
        &["--engine", "magic"][..],
    ] {
        let out = run(&[&base[..], bad].concat());
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{bad:?}: {err}");
    }
    // A mutant: the selector's output valid is never reset.
    let unit = fields(serde_json::json!({"unit": "bd-selector", "block_size": 2, "pipeline": 1}))
        .check()
        .unwrap();
    let design = unit.emit().unwrap();
    let rtl = dir.path().join("rtl");
    std::fs::create_dir(&rtl).unwrap();
    let mut changed = false;
    for f in &design.files {
        let text = f.contents.replace(
            "if (!rst_ni) valid_s1_q <= 1'b0;",
            "if (1'b0) valid_s1_q <= 1'b0;",
        );
        changed |= text != f.contents;
        std::fs::write(rtl.join(&f.name), text).unwrap();
    }
    assert!(changed, "the selector's valid reset moved");
    let out = run(&[
        &base[..],
        &[
            "--rtl",
            "rtl",
            "--property",
            "reset",
            "--trace-dir",
            "traces",
        ],
    ]
    .concat());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reset       FAIL  at cycle"), "{text}");
    assert!(
        dir.path().join("traces").read_dir().unwrap().count() == 1,
        "{text}"
    );
}
