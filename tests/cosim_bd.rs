//! Co-simulation of the BlockDialect units against the golden model: both selectors, one and
//! several beats per block, custom formatbooks, every distribution, stalls on both sides.

mod common;

use blockrtl::cosim::{self, CosimOptions};
use blockrtl::floor::BookRef;
use blockrtl::format::{InputFormat, ScaleFormat};
use blockrtl::golden::Selector;
use blockrtl::stimulus::Dist;
use blockrtl::units::{BdQuantizerParams, BdSelectorParams, UnitParams};
use std::path::PathBuf;

#[allow(clippy::too_many_arguments)]
fn q(
    sel: Selector,
    input: InputFormat,
    k: usize,
    lanes: usize,
    p: usize,
    scale: ScaleFormat,
    ftz: bool,
    book: Option<PathBuf>,
) -> UnitParams {
    UnitParams::BdQuantizer(BdQuantizerParams {
        block_size: k,
        input_format: input,
        selector: sel,
        frac_bits: 2,
        scale,
        lanes: Some(lanes),
        pipeline: p,
        formatbook: BookRef::file(book),
        flush_subnormals: ftz,
    })
}

fn s(sel: Selector, k: usize, frac: u32, p: usize, book: Option<PathBuf>) -> UnitParams {
    UnitParams::BdSelector(BdSelectorParams {
        block_size: k,
        selector: sel,
        frac_bits: frac,
        pipeline: p,
        formatbook: BookRef::file(book),
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

/// A custom 4-dialect book with the pair structure: "max 6" and "max 4" pairs.
fn custom_book(dir: &std::path::Path) -> PathBuf {
    let p = dir.join("four.toml");
    std::fs::write(
        &p,
        "name = \"four\"\nunit = \"half\"\n\
         [[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 12]\n\
         [[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 10, 12]\n\
         [[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 7, 8]\n\
         [[dialect]]\nvalues = [0, 1, 2, 3, 4, 5, 6, 8]\n",
    )
    .unwrap();
    p
}

#[test]
fn subset_matches_the_golden_model_under_stalls() {
    if !present() {
        return;
    }
    use InputFormat::*;
    use ScaleFormat::*;
    use Selector::*;
    let dir = tempfile::tempdir().unwrap();
    let book = custom_book(dir.path());
    let units = vec![
        q(TwoStage, F32, 32, 32, 2, E8m0, false, None),
        q(Mse, Bf16, 32, 32, 1, E8m0, false, None),
        q(TwoStage, Bf16, 16, 4, 0, E8m0, false, None),
        q(Mse, F16, 64, 16, 3, E8m0, false, None),
        q(TwoStage, F32, 64, 64, 4, E5, true, None),
        q(Mse, Bf16, 32, 8, 2, E5, false, None),
        q(TwoStage, Bf16, 32, 32, 2, E8m0, false, Some(book.clone())),
        q(Mse, F32, 32, 8, 1, E8m0, false, Some(book.clone())),
        // Deep one-beat pipelines: registers inside the two-stage selector (after stage 1, in
        // the count tree), in the max tree and after the exponent gaps, every cut point at 16
        // for k = 16; the custom book's pairs change at other t than DialectFP4's; the MSE
        // selector's gap and max-tree cuts.
        q(TwoStage, Bf16, 32, 32, 9, E8m0, false, None),
        q(TwoStage, F32, 16, 16, 16, E5, false, None),
        q(TwoStage, F16, 32, 32, 12, E8m0, false, Some(book.clone())),
        q(Mse, Bf16, 16, 16, 8, E8m0, false, None),
        s(TwoStage, 32, 2, 2, None),
        s(Mse, 16, 3, 1, None),
        s(TwoStage, 64, 1, 0, Some(book)),
    ];
    for (i, u) in units.iter().enumerate() {
        run(
            u,
            &CosimOptions {
                blocks: 20_000,
                seed: 200 + i as u64,
                stall_prob: 0.25,
                dists: Dist::ALL.to_vec(),
                replay_dir: dir.path().to_path_buf(),
                ..CosimOptions::default()
            },
        );
    }
}

/// Blocks aimed at every dialect: after the hardware agreed with the golden model on every
/// block, the golden model's choices over the same stimulus show that each selector chose all
/// 16 dialects (so the hardware did too).
#[test]
fn every_dialect_is_chosen_by_each_selector_in_hardware() {
    if !present() {
        return;
    }
    for (sel, lanes) in [(Selector::TwoStage, 32), (Selector::Mse, 8)] {
        let u = q(
            sel,
            InputFormat::F32,
            32,
            lanes,
            2,
            ScaleFormat::E8m0,
            false,
            None,
        );
        let opts = CosimOptions {
            blocks: 20_000,
            seed: 77,
            stall_prob: 0.1,
            dists: vec![Dist::Dialects],
            ..CosimOptions::default()
        };
        run(&u, &opts);
        let UnitParams::BdQuantizer(p) = &u else {
            unreachable!()
        };
        let golden = p.golden().unwrap();
        let unit = u.check().unwrap();
        let mut seen = [0u64; 16];
        for b in 0..opts.blocks {
            let mut stim = Vec::new();
            cosim::block_stimulus(unit.as_ref(), &opts, b, &mut stim);
            let d = p.golden_block(&golden, &stim).dialect.unwrap();
            seen[usize::from(d)] += 1;
        }
        assert!(
            seen.iter().all(|&c| c > 0),
            "{sel}: dialects chosen {seen:?}"
        );
        eprintln!("{sel}: dialect histogram over 20000 aimed blocks {seen:?}");
    }
}

/// With no stalls the measured latency is the manifest's and one beat moves per cycle.
#[test]
fn latency_and_throughput_are_as_the_manifest_says() {
    if !present() {
        return;
    }
    for u in [
        q(
            Selector::TwoStage,
            InputFormat::Bf16,
            32,
            32,
            3,
            ScaleFormat::E8m0,
            false,
            None,
        ),
        q(
            Selector::TwoStage,
            InputFormat::Bf16,
            32,
            8,
            2,
            ScaleFormat::E8m0,
            false,
            None,
        ),
        q(
            Selector::TwoStage,
            InputFormat::F32,
            16,
            4,
            0,
            ScaleFormat::E5,
            false,
            None,
        ),
    ] {
        let d = u.emit().unwrap();
        let r = run(
            &u,
            &CosimOptions {
                blocks: 20_000,
                dists: vec![Dist::Laplace],
                ..CosimOptions::default()
            },
        );
        assert_eq!(r.first_latency, Some(i64::from(d.latency)), "{}", d.top);
        let beats = d.beats_per_block as f64;
        assert!(
            r.cycles_per_block >= beats && r.cycles_per_block < beats * 1.01,
            "{}: {}",
            d.top,
            r.cycles_per_block
        );
    }
}

/// The deep one-beat quantizer's new registers must be checked, not just present: each mutant
/// changes one line of a p16 design (every cut point at k = 16) and must mismatch under stalls
/// with dialect-aimed blocks.
#[test]
fn mutants_of_the_deep_selector_and_magnitudes_are_caught() {
    if !present() {
        return;
    }
    let u = q(
        Selector::TwoStage,
        InputFormat::Bf16,
        16,
        16,
        16,
        ScaleFormat::E8m0,
        false,
        None,
    );
    let des = u.check().unwrap().emit().unwrap();
    let mutants = [
        (
            "_sel",
            // t = 12 names another pair than t = 13 (maxima 6.0 and 6.5 half-units apart).
            "stage 1's flag for t >= 12 compares against 13",
            "(t_w >= 4'd12)",
            "(t_w >= 4'd13)",
        ),
        (
            "_sel",
            "the member ids one count-tree register short",
            "wire [3:0] id0_late_w = ids_c4_q[3:0];",
            "wire [3:0] id0_late_w = ids_c3_q[3:0];",
        ),
        (
            "_stats",
            "a count-tree register ignores its enable",
            "always @(posedge clk_i) if (en_i[0]) cnt_l1_n0_c0_q <=",
            "always @(posedge clk_i) cnt_l1_n0_c0_q <=",
        ),
        (
            "_mag",
            "the exponent gaps' register ignores its enable",
            "always @(posedge clk_i) if (en_i) sh_in_q <= sh_in_d_w;",
            "always @(posedge clk_i) sh_in_q <= sh_in_d_w;",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (file, why, from, to)) in mutants.iter().enumerate() {
        let rtl = dir.path().join(format!("m{i}"));
        common::write_mutant(&des, &rtl, file, from, to, why);
        let unit = u.check().unwrap();
        let r = cosim::run(
            unit.as_ref(),
            &CosimOptions {
                blocks: 5_000,
                seed: 300 + i as u64,
                stall_prob: 0.25,
                dists: vec![Dist::Dialects, Dist::Laplace],
                rtl: Some(cosim::rtl::RtlSource {
                    dir: rtl,
                    top: None,
                }),
                replay_dir: dir.path().to_path_buf(),
                ..CosimOptions::default()
            },
        )
        .unwrap();
        eprintln!("{why}: {}", r.summary());
        assert!(r.mismatches > 0, "{why}: not caught");
    }
}
