//! The gemm tile: its golden model against an independent exact computation, co-simulation of
//! small tiles under stalls (R or C = 1, K = k and K = 8k, lanes < k, every element family),
//! its schedule's latency and throughput, mutants that must fail, and a checkpoint-shaped
//! layer through `pack` and `cosim --weights --activations`.

mod common;

use blockrtl::cosim::{self, CosimOptions};
use blockrtl::floor::BookRef;
use blockrtl::format::{InputFormat, OperandFormat};
use blockrtl::golden::{BlockFormat, QuantBlock};
use blockrtl::stimulus::Dist;
use blockrtl::units::unit::Hardware;
use blockrtl::units::{Checked, GemmParams, Unit, UnitParams};
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};

#[allow(clippy::too_many_arguments)]
fn tile(
    fx: &str,
    fw: &str,
    k: usize,
    kk: usize,
    n: usize,
    rc: (usize, usize),
    lanes: usize,
    p: usize,
) -> GemmParams {
    GemmParams {
        format_x: fx.parse().unwrap(),
        format_w: fw.parse().unwrap(),
        block_size: k,
        in_features: kk,
        out_features: n,
        rows: rc.0,
        cols: rc.1,
        lanes: Some(lanes),
        input_format: InputFormat::Bf16,
        output_format: InputFormat::F32,
        pipeline: p,
        quantizer_pipeline: None,
        weights: None,
        tensor: None,
        weight_seed: 3,
        requantize: None,
        output_block_size: None,
        formatbook: BookRef::default(),
        multiplier: Default::default(),
    }
}

/// An FP32 value's exact rational.
fn rational(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// The binary32 value nearest to `v`, ties to even, by exact comparisons with the neighbours
/// of a first guess (no part of the golden model's rounding).
fn nearest_f32(v: &BigRational) -> f32 {
    let guess = v.to_f64().unwrap() as f32;
    let mut cands = vec![guess, guess.next_down(), guess.next_up()];
    cands.retain(|c| c.is_finite());
    let dist = |c: f32| {
        let d = rational(f64::from(c)) - v;
        if d < BigRational::zero() { -d } else { d }
    };
    cands.sort_by(|a, b| {
        dist(*a)
            .cmp(&dist(*b))
            .then_with(|| (a.to_bits() & 1).cmp(&(b.to_bits() & 1)))
    });
    let best = cands[0];
    // Zero sums are +0 (a sum of products starts from +0).
    if best == 0.0 { 0.0 } else { best }
}

/// y = ((+0 + d_0) + d_1) + ..., each d_b the exact block dot (rational arithmetic on the
/// dequantized elements) rounded to binary32.
fn exact_output(fx: &BlockFormat, x: &[QuantBlock], fw: &BlockFormat, w: &[QuantBlock]) -> f32 {
    let mut y = 0.0f32;
    for (a, b) in x.iter().zip(w) {
        let (va, vb) = (fx.dequantize(a), fw.dequantize(b));
        // A NaN block (an NVFP4 group whose tensor scale is not positive finite) makes the
        // output NaN.
        if va.iter().chain(&vb).any(|v| v.is_nan()) {
            return f32::NAN;
        }
        let mut s = BigRational::zero();
        for (p, q) in va.iter().zip(&vb) {
            s += rational(*p) * rational(*q);
        }
        y += nearest_f32(&s);
    }
    y
}

/// The golden tile (quantize each row on the fly, DotGeneral per output) against block sums
/// computed exactly with rationals and rounded by comparison, summed in the documented order.
#[test]
fn golden_tile_matches_exact_rational_sums() {
    let mut checked = 0;
    for (fx, fw, k, kk, n) in [
        ("mxfp4", "mxfp4", 4, 32, 6),
        ("mxfp8_e4m3", "mxint8", 8, 64, 4),
        ("dialectfp4", "dialectfp4", 8, 32, 4),
        ("mxfp6_e2m3", "dialectfp4", 4, 8, 3),
        ("mxfp8_e5m2", "mxfp8_e5m2", 4, 16, 2),
        // NVFP4 with the tensor scales left out: UE4M3 block scales only.
        ("nvfp4", "nvfp4", 16, 32, 2),
        ("nvfp4", "dialectfp4", 8, 16, 2),
    ] {
        let p = tile(fx, fw, k, kk, n, (1, 1), k, 1);
        let t = p.check().unwrap();
        let book = p.formatbook.get().unwrap();
        let (bx, bw) = (
            BlockFormat::named(p.format_x, book.clone()),
            BlockFormat::named(p.format_w, book),
        );
        let mut rng = common::rng(11);
        for dist in [Dist::Normal, Dist::Outlier, Dist::Dialects] {
            for _ in 0..20 {
                let mut raw = Vec::new();
                t.stimulus(dist, &mut rng, &mut raw);
                let (raw, ts) = t.split_group(&raw);
                let xq = t.quantize_row(raw, ts);
                let got = t.golden_row(raw, ts);
                for (w, &g) in t.weights().rows.iter().zip(&got) {
                    let want = exact_output(&bx, &xq, &bw, w);
                    let want_bits = if want.is_nan() {
                        0x7fc0_0000
                    } else {
                        want.to_bits()
                    };
                    assert_eq!(g, want_bits, "{fx} x {fw}: {g:#x} vs {want}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000);
}

fn present() -> bool {
    common::tool("verilator", "verilator").is_some()
}

fn run(u: &GemmParams, opts: &CosimOptions) -> cosim::CosimReport {
    let unit = UnitParams::Gemm(u.clone()).check().unwrap();
    let r = cosim::run(unit.as_ref(), opts).unwrap();
    assert_eq!(r.mismatches, 0, "{}: {:?}", r.top, r.failures);
    r
}

/// Small tiles under random stalls on both sides, every distribution (edge values, NaN and Inf
/// blocks, dialect grids), on the two cores.
#[test]
fn small_tiles_match_the_golden_model_under_stalls() {
    if !present() {
        return;
    }
    let mut bf16_out = tile("dialectfp4", "mxfp4", 8, 16, 6, (1, 3), 8, 2);
    bf16_out.output_format = InputFormat::Bf16;
    let mut f32_in = tile("mxint8", "mxint8", 4, 4, 2, (3, 1), 4, 0);
    f32_in.input_format = InputFormat::F32;
    // Results quantized again for the next layer: blocks of C (one beat) and of 4C.
    let mut rq_one = tile("mxfp4", "mxfp4", 4, 8, 8, (2, 4), 2, 2);
    rq_one.requantize = Some("mxfp8_e4m3".parse().unwrap());
    rq_one.output_block_size = Some(4);
    let mut rq_serial = tile("dialectfp4", "mxint8", 8, 16, 16, (1, 2), 8, 1);
    rq_serial.output_format = InputFormat::Bf16;
    rq_serial.requantize = Some("mxfp4".parse().unwrap());
    rq_serial.output_block_size = Some(8);
    let mut deep_q = tile("mxfp4", "mxfp4", 4, 4, 1, (1, 1), 4, 0);
    deep_q.quantizer_pipeline = Some(10);
    let configs = [
        // R = C = 1, K = k, a combinational dot behind a 10-stage quantizer.
        (deep_q, 3_000),
        // K = 8k, lanes < k (two beats a block), 2 x 2.
        (tile("mxfp4", "mxfp4", 4, 32, 4, (2, 2), 2, 2), 1_500),
        // Mixed formats, one lane a beat, N / C below the adder's distance (bubbles).
        (
            tile("mxfp6_e3m2", "dialectfp4", 4, 12, 4, (4, 2), 1, 2),
            800,
        ),
        (
            tile("mxfp8_e4m3", "mxfp8_e5m2", 8, 64, 16, (2, 4), 4, 3),
            600,
        ),
        (bf16_out, 2_000),
        // N = C: one group of weight rows, four blocks a row (its weight address is the block
        // index alone); the quantizer's FIFO sets the pace (16 beats a block index).
        (tile("mxfp4", "mxfp4", 8, 32, 4, (4, 4), 2, 2), 1_500),
        (f32_in, 3_000),
        (rq_one, 1_500),
        (rq_serial, 1_500),
        // NVFP4 activations (a tensor scale a group, edge scales among them) and weights.
        (tile("nvfp4", "nvfp4", 16, 32, 4, (2, 2), 16, 2), 1_500),
        (tile("nvfp4", "mxfp8_e4m3", 8, 16, 6, (1, 3), 8, 0), 1_500),
    ];
    common::on_two_workers(&configs, |i, (u, blocks)| {
        let r = run(
            u,
            &CosimOptions {
                blocks: *blocks,
                seed: 40 + i as u64,
                stall_prob: 0.3,
                ..CosimOptions::default()
            },
        );
        eprintln!("{}", r.summary());
    });
}

/// With no stalls: the first result comes when `latency` says, and a group of R rows takes its
/// K/k x max(N/C, 5) slots plus one cycle when the array is the bottleneck.
#[test]
fn schedule_keeps_the_array_busy() {
    if !present() {
        return;
    }
    let u = tile("mxfp4", "mxfp4", 4, 32, 48, (2, 2), 4, 2);
    let unit = u.check().unwrap();
    let des = unit.emit().unwrap();
    let blocks = 300;
    let r = run(
        &u,
        &CosimOptions {
            blocks,
            dists: vec![Dist::Normal],
            ..CosimOptions::default()
        },
    );
    assert_eq!(r.first_latency, Some(i64::from(des.latency)), "{}", des.top);
    let per_group = (u.blocks() * u.slots() + 1) as f64;
    let slack = (cosim::build::drain_cycles(&des) + des.latency as u64 + 16) as f64 / blocks as f64;
    assert!(
        r.cycles_per_block >= per_group && r.cycles_per_block < per_group + slack,
        "{}: {} cycles per group, {per_group} ideal",
        des.top,
        r.cycles_per_block
    );
}

/// Broken tiles must fail co-simulation: each mutant changes one line of the generated top.
#[test]
fn mutants_of_the_tile_are_caught() {
    if !present() {
        return;
    }
    // A block a beat: a quantizer that waits for a whole block keeps the FIFO's last place
    // free on its own, and the FIFO's off-by-one mutant would pass.
    let u = tile("mxfp4", "dialectfp4", 4, 16, 4, (2, 2), 4, 1);
    let des = u.check().unwrap().emit().unwrap();
    let mutants = [
        (
            "",
            "partial sums not cleared at a group's first block",
            "first_add_w ? 32'd0 :",
            "1'b0 ? 32'd0 :",
        ),
        (
            "",
            "results dropped under back-pressure",
            "pop_w = f0v_w & ready_i;",
            "pop_w = f0v_w;",
        ),
        (
            "",
            "every slot reads weight word 0",
            "w_raddr_w = slot_v_w ?",
            "w_raddr_w = 1'b0 ?",
        ),
        (
            "",
            "a group starts before its activations are in",
            "~busy_q & afull_q[cbank_q] &",
            "~busy_q & (afull_q[cbank_q] | q_blk_w) &",
        ),
        // The FIFO after the quantizer: x taken with no place kept for its beats.
        (
            "",
            "quantized beats overwritten in a full FIFO",
            "qf_room_q <= qf_cnt_w <=",
            "qf_room_q <= 1'b1 | qf_cnt_w <=",
        ),
        (
            "",
            "one beat more in flight than the FIFO holds",
            "qf_room_q <= qf_cnt_w <=",
            "qf_room_q <= qf_cnt_w <= 1 +",
        ),
        // The pipelined rounding of the block sums: the sign one stage out of step.
        (
            "_tof32",
            "a term's sign taken from the next block sum",
            "neg4_q <= neg3_w;",
            "neg4_q <= neg2_w;",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut caught = 0;
    for (i, (suffix, why, from, to)) in mutants.iter().enumerate() {
        let rtl = dir.path().join(format!("m{i}"));
        common::write_mutant(&des, &rtl, suffix, from, to, why);
        let unit = UnitParams::Gemm(u.clone()).check().unwrap();
        let r = cosim::run(
            unit.as_ref(),
            &CosimOptions {
                blocks: 400,
                stall_prob: 0.3,
                rtl: Some(cosim::rtl::RtlSource {
                    dir: rtl,
                    top: None,
                }),
                replay_dir: dir.path().to_path_buf(),
                ..CosimOptions::default()
            },
        );
        match r {
            Ok(r) => assert!(r.mismatches > 0, "{why}: not caught"),
            // A hang or a lost beat stops the harness: caught too.
            Err(e) => eprintln!("{why}: {e}"),
        }
        caught += 1;
    }
    assert_eq!(caught, mutants.len());
}

/// Run the built `blockrtl` in `dir`; panics with its output unless it succeeds.
fn blockrtl_ok(dir: &std::path::Path, args: &[&str]) -> String {
    common::run_ok(
        dir,
        std::path::Path::new(env!("CARGO_BIN_EXE_blockrtl")),
        args,
    )
}

/// A layer in checkpoint shape: safetensors weights through `pack` (the images decode, by the
/// documented layout, to the offline quantization of the tensor's rows) and `cosim --weights
/// --activations`.
#[test]
fn checkpoint_layer_through_pack_and_cosim() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (n, kk) = (8usize, 64usize);
    let mut rng = common::rng(5);
    let w: Vec<u32> = (0..n * kk)
        .map(|_| half::bf16::from_f64(common::normal(&mut rng) * 0.02).to_bits() as u32)
        .collect();
    blockrtl::io::write_tensors(
        &d.join("w.safetensors"),
        InputFormat::Bf16,
        &[("layer.weight".into(), vec![n, kk], w.clone())],
    )
    .unwrap();
    let x: Vec<u32> = (0..5 * kk)
        .map(|_| half::bf16::from_f64(common::normal(&mut rng)).to_bits() as u32)
        .collect();
    blockrtl::io::write_tensors(
        &d.join("x.safetensors"),
        InputFormat::Bf16,
        &[("x".into(), vec![5, kk], x)],
    )
    .unwrap();
    let unit = [
        "--unit",
        "gemm",
        "--format-x",
        "mxfp4",
        "--format-w",
        "dialectfp4",
        "--block-size",
        "16",
        "--in-features",
        "64",
        "--out-features",
        "8",
        "--rows",
        "2",
        "--cols",
        "2",
        "--input-format",
        "bf16",
        "--weights",
        "w.safetensors",
        "--tensor",
        "layer.weight",
    ];
    let mut args = vec!["pack"];
    args.extend(unit);
    args.extend(["--out", "img"]);
    let out = blockrtl_ok(d, &args);
    assert!(out.contains("_weights.json"), "{out}");
    // Again without --force: refused, nothing replaced.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .current_dir(d)
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));

    // Decode the images by the documented layout: column c, word g*B + b = block b of weight
    // row g*C + c; {codes, dialect, scale}, element 0 lowest.
    let p = GemmParams {
        format_x: "mxfp4".parse().unwrap(),
        format_w: OperandFormat::Dialect,
        block_size: 16,
        in_features: kk,
        out_features: n,
        rows: 2,
        cols: 2,
        lanes: None,
        input_format: InputFormat::Bf16,
        output_format: InputFormat::F32,
        pipeline: 2,
        quantizer_pipeline: None,
        weights: Some(d.join("w.safetensors")),
        tensor: Some("layer.weight".into()),
        weight_seed: 1,
        requantize: None,
        output_block_size: None,
        formatbook: BookRef::default(),
        multiplier: Default::default(),
    };
    let top = p.check().unwrap().top().unwrap();
    let q =
        blockrtl::golden::Quantizer::weights(OperandFormat::Dialect, p.formatbook.get().unwrap())
            .unwrap();
    let widened: Vec<u32> = w.iter().map(|&c| c << 16).collect();
    let blocks = kk / 16;
    for c in 0..2 {
        let hex = std::fs::read_to_string(d.join(format!("img/{top}_wram{c}.hex"))).unwrap();
        let bin = std::fs::read(d.join(format!("img/{top}_wram{c}.bin"))).unwrap();
        let words: Vec<&str> = hex.lines().collect();
        assert_eq!(words.len(), (n / 2) * blocks);
        assert_eq!(bin.len(), words.len() * 10, "76-bit words in 10 bytes");
        for (a, word) in words.iter().enumerate() {
            let v = u128::from_str_radix(word, 16).unwrap();
            let (g, b) = (a / blocks, a % blocks);
            let row = g * 2 + c;
            let want = q.quantize(&widened[row * kk + b * 16..row * kk + b * 16 + 16]);
            assert_eq!(v & 0xff, u128::from(want.scale), "scale of word {a}");
            assert_eq!((v >> 8) & 0xf, u128::from(want.dialect.unwrap()), "dialect");
            for (i, &code) in want.codes.iter().enumerate() {
                assert_eq!((v >> (12 + 4 * i)) & 0xf, u128::from(code), "code {i}");
            }
            let le = u128::from_le_bytes({
                let mut b16 = [0u8; 16];
                b16[..10].copy_from_slice(&bin[a * 10..a * 10 + 10]);
                b16
            });
            assert_eq!(le, v, "binary word {a}");
        }
    }
    if !present() {
        return;
    }
    let mut args = vec!["cosim"];
    args.extend(unit);
    args.extend(["--activations", "x.safetensors", "--stall-prob", "0.2"]);
    let out = blockrtl_ok(d, &args);
    assert!(out.contains("3 blocks, 0 mismatches"), "{out}");
    assert!(
        out.contains("sqnr") && out.contains("over 48 outputs"),
        "{out}"
    );
}

/// The weight write port: a tile built with one set of weights (seed 1) is loaded through
/// w_we_i/w_col_i/w_addr_i/w_data_i with another (seed 2, the words `pack` writes), then
/// computes one group of rows; every result must be the second set's, which differ from the
/// first's. An Icarus testbench drives the port, since co-simulation streams activations only.
#[test]
fn weights_loaded_through_the_write_port_replace_the_initial_ones() {
    let Some(iverilog) = common::tool("iverilog", "iverilog") else {
        return;
    };
    let vvp = common::tool("vvp", "iverilog").expect("vvp comes with iverilog");
    let mut built = tile("mxfp4", "mxfp4", 4, 8, 4, (1, 2), 4, 1);
    built.input_format = InputFormat::F32;
    built.weight_seed = 1;
    let loaded = GemmParams {
        weight_seed: 2,
        ..built.clone()
    };
    let (ta, tb) = (built.check().unwrap(), loaded.check().unwrap());
    let des = ta.emit().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for f in &des.files {
        std::fs::write(dir.path().join(&f.name), &f.contents).unwrap();
    }
    // The second set's words, column after column.
    let words_per_col = built.weight_words();
    let mut words = String::new();
    for c in 0..built.cols {
        words.push_str(&tb.images().hex(c));
    }
    std::fs::write(dir.path().join("words.hex"), words).unwrap();
    // One group of activations, a beat a line (element 0 lowest).
    let mut raw = Vec::new();
    ta.stimulus(Dist::Normal, &mut common::rng(5), &mut raw);
    let lanes = built.lanes();
    let beats: Vec<String> = raw
        .chunks(lanes)
        .map(|b| b.iter().rev().map(|x| format!("{x:08x}")).collect())
        .collect();
    std::fs::write(dir.path().join("x.hex"), beats.join("\n") + "\n").unwrap();
    let ports = ta.ports();
    let width = |n: &str| ports.iter().find(|p| p.name == n).unwrap().width;
    let outs = built.rows * built.groups();
    let tb_v = format!(
        r#"`timescale 1ns/1ps
module tb;
  reg clk_i = 1'b0, rst_ni = 1'b0, valid_i = 1'b0, ready_i = 1'b1;
  always #5 clk_i = ~clk_i;
  reg  [{xw}:0] x_i = 0;
  reg          w_we_i = 1'b0;
  reg  [{cw}:0] w_col_i = 0;
  reg  [{aw}:0] w_addr_i = 0;
  reg  [{ww}:0] w_data_i = 0;
  wire         ready_o, valid_o, last_o;
  wire [{yw}:0] y_o;
  {top} dut (.clk_i(clk_i), .rst_ni(rst_ni), .valid_i(valid_i), .ready_o(ready_o),
    .x_i(x_i), .w_we_i(w_we_i), .w_col_i(w_col_i), .w_addr_i(w_addr_i), .w_data_i(w_data_i),
    .valid_o(valid_o), .ready_i(ready_i), .y_o(y_o), .last_o(last_o));
  reg  [{ww}:0] words [0:{nw}];
  reg  [{xw}:0] xs [0:{nx}];
  integer i, f, got = 0;
  initial begin
    $readmemh("words.hex", words);
    $readmemh("x.hex", xs);
    f = $fopen("y.hex", "w");
    repeat (3) @(negedge clk_i);
    rst_ni = 1'b1;
    for (i = 0; i <= {nw}; i = i + 1) begin
      @(negedge clk_i);
      w_we_i = 1'b1; w_col_i = i / {wpc}; w_addr_i = i % {wpc}; w_data_i = words[i];
    end
    @(negedge clk_i) w_we_i = 1'b0;
    for (i = 0; i <= {nx}; i = i + 1) begin
      @(negedge clk_i);
      valid_i = 1'b1; x_i = xs[i];
      @(posedge clk_i);
      while (!ready_o) @(posedge clk_i);
    end
    @(negedge clk_i) valid_i = 1'b0;
  end
  always @(posedge clk_i) if (valid_o && ready_i) begin
    $fwrite(f, "%h\n", y_o);
    got = got + 1;
    if (got == {outs}) begin $fclose(f); $finish; end
  end
  initial begin #200000 $display("timeout"); $finish; end
endmodule
"#,
        top = des.top,
        xw = width("x_i") - 1,
        cw = width("w_col_i") - 1,
        aw = width("w_addr_i") - 1,
        ww = width("w_data_i") - 1,
        yw = width("y_o") - 1,
        nw = built.cols * words_per_col - 1,
        wpc = words_per_col,
        nx = beats.len() - 1,
    );
    std::fs::write(dir.path().join("tb.v"), tb_v).unwrap();
    let mut args = vec!["-g2005", "-o", "tb.vvp", "tb.v"];
    args.extend(des.files.iter().map(|f| f.name.as_str()));
    common::run_ok(dir.path(), &iverilog, &args);
    let log = common::run_ok(dir.path(), &vvp, &["-n", "tb.vvp"]);
    assert!(!log.contains("timeout"), "{log}");
    let got: Vec<u128> = std::fs::read_to_string(dir.path().join("y.hex"))
        .unwrap()
        .lines()
        .map(|l| u128::from_str_radix(l, 16).unwrap())
        .collect();
    // Expected beats: C results of a row a beat, lane 0 lowest.
    let beats_of = |t: &blockrtl::units::gemm::GemmChecked| -> Vec<u128> {
        let (rows, ts) = t.split_group(&raw);
        rows.chunks(built.in_features)
            .flat_map(|row| {
                t.golden_row(row, ts)
                    .chunks(built.cols)
                    .map(|v| {
                        v.iter()
                            .rev()
                            .fold(0u128, |a, &y| (a << 32) | u128::from(y))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (want, initial) = (beats_of(&tb), beats_of(&ta));
    assert_ne!(
        want, initial,
        "the two weight sets must give different results"
    );
    assert_eq!(
        got, want,
        "results after loading the weights through the port"
    );
}
