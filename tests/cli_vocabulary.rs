//! One vocabulary across subcommands: the same thing has the same flag everywhere, lists are
//! taken the same way (repeat the flag or give a comma list), defaults agree, and `--help`
//! lists the allowed values and the environment.

use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .output()
        .expect("runs")
}

fn help(sub: &[&str]) -> String {
    let mut args = sub.to_vec();
    args.push("--help");
    let out = blockrtl(&args);
    assert!(out.status.success(), "{sub:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_same_thing_has_the_same_flag_in_every_subcommand() {
    let has = |sub: &[&str], flags: &[&str]| {
        let h = help(sub);
        for f in flags {
            let listed = h
                .lines()
                .any(|l| l.trim_start().split([' ', ',']).any(|w| w == *f));
            assert!(listed, "{sub:?} lacks {f}:\n{h}");
        }
    };
    for sub in [&["quantize"][..], &["explore"], &["explore", "formatbook"]] {
        has(
            sub,
            &["--tensor", "--exclude", "--all-shapes", "--block-size"],
        );
    }
    for sub in [&["quantize"][..], &["explore"]] {
        has(sub, &["--format", "--selector", "--scale-rule"]);
    }
    for sub in [&["generate"][..], &["cosim"], &["synth"]] {
        has(sub, &["--unit", "--config", "--block-size", "--format"]);
    }
    for sub in [&["synth"][..], &["explore"]] {
        has(sub, &["--target"]);
    }
    for sub in [&["cosim"][..], &["synth"], &["explore"]] {
        has(sub, &["--timeout"]);
    }
}

#[test]
fn help_lists_allowed_values_and_the_environment() {
    let top = help(&[]);
    for v in ["BLOCKRTL_CACHE", "BLOCKRTL_EDA_VENV", "OBJCACHE", "CI=true"] {
        assert!(top.contains(v), "{v} not in --help:\n{top}");
    }
    let q = help(&["quantize"]);
    for v in [
        "mse",
        "two-stage",
        "e8m0",
        "e5",
        "bf16 or f16",
        "floor",
        "rceil",
    ] {
        assert!(q.contains(v), "quantize --help lacks {v}");
    }
    let g = help(&["generate"]);
    for v in [
        "none",
        "fp32",
        "fixed",
        "f32, bf16 or f16",
        "two-stage or mse",
    ] {
        assert!(g.contains(v), "generate --help lacks {v}");
    }
    assert!(help(&["make-tensor"]).contains("f32, bf16 or f16"));
    let c = help(&["cosim"]);
    for d in blockrtl::stimulus::Dist::ALL {
        assert!(
            c.contains(d.name()),
            "cosim --help lacks --dist {}",
            d.name()
        );
    }
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = blockrtl(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn lists_are_a_repeated_flag_or_a_comma_list_and_defaults_agree() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.npy");
    let made = blockrtl(&[
        "make-tensor",
        "--shape",
        "64x64",
        "--out",
        w.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    let w = w.to_str().unwrap();
    let repeated = json(&[
        "quantize",
        "--input",
        w,
        "--format",
        "mxfp4",
        "--format",
        "dialectfp4",
        "--json",
    ]);
    let comma = json(&[
        "quantize",
        "--input",
        w,
        "--format",
        "mxfp4,dialectfp4",
        "--json",
    ]);
    assert_eq!(repeated, comma);
    assert_eq!(repeated["rows"].as_array().unwrap().len(), 2);
    // quantize and explore read checkpoints of weights: both default to the mse selector.
    assert_eq!(repeated["dialect"]["selector"], "mse");
    let out = dir.path().join("explore");
    let report = |extra: &[&str]| {
        let mut args = vec![
            "explore",
            "--input",
            w,
            "--target",
            "none",
            "--force",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = blockrtl(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        v
    };
    let a = report(&[
        "--format",
        "mxfp4",
        "--format",
        "dialectfp4",
        "--block-size",
        "16",
        "--block-size",
        "32",
    ]);
    let b = report(&["--format", "mxfp4,dialectfp4", "--block-size", "16,32"]);
    assert_eq!(a["configs"], b["configs"]);
    assert_eq!(a["configs"].as_array().unwrap().len(), 4);
    assert_eq!(a["selector"], "mse");
}
