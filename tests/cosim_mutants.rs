//! The harness must fail loudly on broken RTL: mutants of a generated MX quantizer, run through
//! `cosim --rtl`, each exit 1 with a first failure in full and a replay file that fails again
//! on its own, in bounded time; the unmodified copy passes.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const TOP: &str = "mxq_e2m1_bf16_k16_l16_p2";
const UNIT: [&str; 10] = [
    "--unit",
    "mx-quantizer",
    "--format",
    "mxfp4",
    "--input-format",
    "bf16",
    "--block-size",
    "16",
    "--pipeline",
    "2",
];

struct Mutant {
    name: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
}

/// Each replaces one line of the generated RTL.
const MUTANTS: [Mutant; 5] = [
    Mutant {
        name: "ready_o tied high (beats lost under back-pressure)",
        file: "",
        from: "assign ready_o = en_s1_w;",
        to: "assign ready_o = 1'b1;",
    },
    Mutant {
        // The conversion table's row for 1.0 x 2^-2 of the smallest normal: a tie between 0
        // and the smallest subnormal (0.5), which goes to the even 0.
        name: "a tie at a quarter rounds up instead of to even",
        file: "_cvt",
        from: "6'd8: tbl_w = 3'd0;",
        to: "6'd8: tbl_w = 3'd1;",
    },
    Mutant {
        name: "one code bit flipped (lane 5, bit 0)",
        file: "",
        from: "assign codes_o[i*4 +: 4] = code_s2_q;",
        to: "assign codes_o[i*4 +: 4] = code_s2_q ^ {3'd0, i == 5};",
    },
    Mutant {
        name: "valid_o one cycle late",
        file: "",
        from: "assign valid_o = valid_s2_q;",
        to: "reg valid_late_q;\n  always @(posedge clk_i) valid_late_q <= rst_ni & valid_s2_q;\n  assign valid_o = valid_late_q;",
    },
    Mutant {
        name: "output register ignores its enable",
        file: "",
        from: "always @(posedge clk_i) if (en_s2_w) code_s2_q <= code_w;",
        to: "always @(posedge clk_i) code_s2_q <= code_w;",
    },
];

fn blockrtl(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cosim_rtl(dir: &Path, rtl: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args: Vec<&str> = vec!["cosim"];
    args.extend(UNIT);
    args.extend([
        "--rtl",
        rtl,
        "--blocks",
        "20000",
        "--stall-prob",
        "0.2",
        "--replay-dir",
        rtl,
    ]);
    args.extend(extra);
    blockrtl(dir, &args)
}

/// A copy of the generated design in `orig/` as `name/`, with `from` replaced by `to` in the
/// file `<TOP><suffix>.v` (which must contain it, so a generator change cannot silently turn a
/// mutant into the original).
fn mutant_copy(dir: &Path, name: &str, suffix: &str, from: &str, to: &str) -> std::path::PathBuf {
    let dst = dir.join(name);
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(dir.join("orig")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    let file = dst.join(format!("{TOP}{suffix}.v"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "'{from}' not in {}", file.display());
    std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
    dst
}

#[test]
fn every_mutant_fails_with_a_replay_and_the_original_passes() {
    if common::tool("verilator", "verilator").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut gen_args = vec!["generate"];
    gen_args.extend(UNIT);
    gen_args.extend(["--out", "orig"]);
    let (code, _, err) = blockrtl(dir.path(), &gen_args);
    assert_eq!(code, Some(0), "{err}");

    let (code, out, err) = cosim_rtl(dir.path(), "orig", &[]);
    assert_eq!(code, Some(0), "the unmodified copy must pass: {out}{err}");
    assert!(out.contains("20000 blocks, 0 mismatches"), "{out}");

    let mut table = Vec::new();
    for m in &MUTANTS {
        let name = format!("m{}", table.len());
        let src = dir.path().join("orig");
        let dst = dir.path().join(&name);
        std::fs::create_dir(&dst).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
        let file = dst.join(format!("{TOP}{}.v", m.file));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(m.from),
            "{}: '{}' not in {}",
            m.name,
            m.from,
            file.display()
        );
        std::fs::write(&file, text.replacen(m.from, m.to, 1)).unwrap();

        let start = Instant::now();
        let (code, out, err) = cosim_rtl(dir.path(), &name, &[]);
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(
            code,
            Some(1),
            "{}: must fail with exit 1:\n{out}{err}",
            m.name
        );
        assert!(secs < 60.0, "{}: took {secs:.0} s", m.name);
        // The first failure in full: which block, what was expected and what came.
        let first = out
            .lines()
            .find(|l| l.starts_with("block ") || l.starts_with("missing output"))
            .unwrap_or_else(|| panic!("{}: no failure shown:\n{out}", m.name));
        assert!(
            out.contains("expected") && (out.contains(" got ") || out.contains("nothing")),
            "{}: {out}",
            m.name
        );
        let block: u64 = first
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|w| w.parse().ok())
            .unwrap();
        let replay = dst.join(format!("{TOP}-seed1.replay"));
        assert!(replay.is_file(), "{}: no replay file:\n{out}", m.name);

        // The replay fails again on its own: the same failure, without random vectors.
        let rp = replay.to_string_lossy().into_owned();
        let (rcode, rout, rerr) = cosim_rtl(dir.path(), &name, &["--replay", &rp]);
        assert_eq!(
            rcode,
            Some(1),
            "{}: replay must fail:\n{rout}{rerr}",
            m.name
        );
        // And passes on the unmodified RTL: the replay holds the golden expectations.
        let (ocode, oout, oerr) = cosim_rtl(dir.path(), "orig", &["--replay", &rp]);
        assert_eq!(
            ocode,
            Some(0),
            "{}: replay on the original:\n{oout}{oerr}",
            m.name
        );
        table.push(format!(
            "{:<52} first failing block {block:>5}  {secs:>5.1} s  {first}",
            m.name
        ));
    }
    // The mutant table of the closing note.
    for row in &table {
        println!("{row}");
    }
}

/// Designs that never answer, or answer unasked: the watchdog, not a hang, ends the run.
#[test]
fn silent_and_unasked_outputs_are_stopped_by_the_watchdog() {
    if common::tool("verilator", "verilator").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut gen_args = vec!["generate"];
    gen_args.extend(UNIT);
    gen_args.extend(["--out", "orig"]);
    assert_eq!(blockrtl(dir.path(), &gen_args).0, Some(0));
    for (name, from, to, says) in [
        (
            "silent",
            "assign valid_o = valid_s2_q;",
            "assign valid_o = 1'b0;",
            "watchdog: missing output of block 0",
        ),
        // Never ready, yet the pipeline loads valid_i anyway: outputs nobody gave input for.
        (
            "unasked",
            "assign ready_o = en_s1_w;",
            "assign ready_o = 1'b0;",
            "watchdog: unexpected output beat 0 (block 0)",
        ),
    ] {
        mutant_copy(dir.path(), name, "", from, to);
        let start = Instant::now();
        let (code, out, err) = cosim_rtl(dir.path(), name, &[]);
        assert_eq!(code, Some(1), "{name}: {out}{err}");
        assert!(out.contains(says), "{name}: {out}");
        assert!(out.contains("missing output"), "{name}: {out}");
        assert!(start.elapsed().as_secs() < 60, "{name}");
    }
}

/// `--rtl` says what is wrong with a folder before building anything.
#[test]
fn rtl_folders_without_the_unit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (code, _, err) = cosim_rtl(dir.path(), "empty", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no mxq_e2m1_bf16_k16_l16_p2.f and no .v or .sv files"),
        "{err}"
    );
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(
        dir.path().join("other/x.v"),
        "module mxq_e2m1_bf16_k16_l16_p2 (input wire clk_i, input wire rst_ni);\nendmodule\n",
    )
    .unwrap();
    let (code, _, err) = cosim_rtl(dir.path(), "other", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lacks the port(s) valid_i, ready_o"), "{err}");
    let (code, _, err) = cosim_rtl(dir.path(), "other", &["--top", "nope"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no file declares module nope"), "{err}");
}
