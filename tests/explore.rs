//! `explore` from the outside, on small synthetic checkpoints (normal, heavy-tailed and
//! outlier-channel tensors) made here: the report agrees with `quantize`, assignments meet their
//! targets and generate, the searched formatbook is valid and never worse than its start, and
//! the pictures are well-formed SVG.

mod common;

use blockrtl::format::InputFormat;
use blockrtl::stimulus::Dist;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .env(
            "BLOCKRTL_CACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("explore-cache"),
        )
        .output()
        .expect("runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three 128 x 256 tensors of different character, and one 32 x 256 activation tensor.
fn checkpoint(dir: &Path) -> (PathBuf, PathBuf) {
    let model = dir.join("model.safetensors");
    let tensors: Vec<(String, Vec<usize>, Vec<u32>)> = [
        ("attn.weight", Dist::Normal, 1),
        ("mlp.weight", Dist::Laplace, 2),
        ("proj.weight", Dist::Outlier, 3),
        ("head.weight", Dist::Laplace, 4),
    ]
    .into_iter()
    .map(|(name, dist, seed)| {
        let raw = blockrtl::stimulus::tensor(dist, 128, 256, InputFormat::F32, seed).unwrap();
        (name.to_string(), vec![128, 256], raw)
    })
    .collect();
    blockrtl::io::write_tensors(&model, InputFormat::F32, &tensors).unwrap();
    let acts = dir.join("acts.npy");
    let raw = blockrtl::stimulus::tensor(Dist::Normal, 32, 256, InputFormat::F32, 9).unwrap();
    blockrtl::io::write_tensors(&acts, InputFormat::F32, &[("a".into(), vec![32, 256], raw)])
        .unwrap();
    (model, acts)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn report_agrees_with_quantize_and_pictures_are_svg() {
    let dir = tempfile::tempdir().unwrap();
    let (model, acts) = checkpoint(dir.path());
    let out = dir.path().join("rep");
    let m = model.display().to_string();
    ok(&blockrtl(&[
        "explore",
        "--input",
        &m,
        "--formats",
        "mxfp4,dialectfp4,mxint8",
        "--block-sizes",
        "16,32",
        "--synth-target",
        "none",
        "--activations",
        &acts.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]));
    let report = read_json(&out.join("report.json"));
    let rows = report["errors"].as_array().unwrap();
    assert_eq!(rows.len(), 3 * 2 * 4);
    // The same numbers `quantize` reports (the weights' selector is mse in both).
    let q: Value = serde_json::from_str(&ok(&blockrtl(&[
        "quantize",
        "--input",
        &m,
        "--format",
        "mxfp4",
        "--format",
        "dialectfp4",
        "--block-size",
        "32",
        "--selector",
        "mse",
        "--json",
    ])))
    .unwrap();
    for qr in q["rows"].as_array().unwrap() {
        let e = rows
            .iter()
            .find(|r| {
                r["tensor"] == qr["tensor"] && r["format"] == qr["format"] && r["block_size"] == 32
            })
            .unwrap_or_else(|| panic!("no explore row for {qr}"));
        for key in ["mse", "sqnr_db", "max_abs_err", "elements"] {
            assert_eq!(
                e[key], qr[key],
                "{key} of {} {}",
                qr["tensor"], qr["format"]
            );
        }
    }
    // Activations: errors for every configuration, DotGeneral errors against FP64.
    let act = &report["activations"];
    assert_eq!(act["errors"].as_array().unwrap().len(), 3 * 2);
    let dots = act["dot"].as_array().unwrap();
    assert_eq!(dots.len(), 4 * 3 * 2);
    for d in dots {
        let db = d["sqnr_db"].as_f64().unwrap();
        // Block-scaled 4-bit dot products of Gaussian data land well inside 5..60 dB.
        assert!((5.0..60.0).contains(&db), "{d}");
    }
    for (svg, label) in [("pareto.svg", "mxint8 k16"), ("layers.svg", "proj.weight")] {
        let text = std::fs::read_to_string(out.join(svg)).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{svg}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(text.contains(label), "{svg} lacks the label {label}");
    }
    // The pictures say what they show: every configuration labelled, every tensor named, the
    // title naming the x axis, an x-axis title on the bars, labels not stacked on each other.
    let texts = |svg: &str| -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(out.join(svg)).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| {
                (
                    n.text().unwrap_or("").trim().to_string(),
                    n.attribute("x").unwrap_or("").to_string(),
                    n.attribute("y").unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let pareto = texts("pareto.svg");
    let has = |t: &[(String, String, String)], s: &str| t.iter().any(|x| x.0 == s);
    for f in ["mxfp4", "dialectfp4", "mxint8"] {
        for k in [16, 32] {
            assert!(
                has(&pareto, &format!("{f} k{k}")),
                "pareto.svg lacks {f} k{k}"
            );
        }
    }
    assert!(has(
        &pareto,
        "SQNR against bits per element, one point per configuration"
    ));
    let labels: Vec<&(String, String, String)> =
        pareto.iter().filter(|t| t.0.contains(" k")).collect();
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            assert!(
                (&a.1, &a.2) != (&b.1, &b.2),
                "{} and {} at one spot",
                a.0,
                b.0
            );
        }
    }
    let layers = texts("layers.svg");
    for t in ["attn.weight", "mlp.weight", "proj.weight", "head.weight"] {
        assert!(has(&layers, t), "layers.svg lacks {t}");
    }
    assert!(has(&layers, "SQNR (dB), higher is better"));
    assert!(has(&layers, "dialectfp4"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| proj.weight | dialectfp4 | 32 |"));
    // Nothing is overwritten without --force.
    let again = blockrtl(&[
        "explore",
        "--input",
        &m,
        "--synth-target",
        "none",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
}

#[test]
fn assignments_meet_their_targets_and_generate() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = checkpoint(dir.path());
    let m = model.display().to_string();
    let budget = dir.path().join("budget");
    ok(&blockrtl(&[
        "explore",
        "--input",
        &m,
        "--formats",
        "mxfp4,dialectfp4,mxfp6_e2m3,mxint8",
        "--block-sizes",
        "32",
        "--synth-target",
        "none",
        "--budget-bits-per-element",
        "5.5",
        "--out",
        &budget.display().to_string(),
    ]));
    let a = &read_json(&budget.join("report.json"))["assignment"];
    let bits = a["bits_per_element"].as_f64().unwrap();
    assert!(bits <= 5.5 + 1e-9, "{bits}");
    // With 5.5 bits to spend over four equal tensors, some tensor gets more than 4.375.
    assert!(bits > 4.375 + 1e-9, "the budget was not used: {bits}");
    // The assignment is a config `generate` accepts.
    let rtl = dir.path().join("rtl");
    ok(&blockrtl(&[
        "generate",
        "--config",
        &budget.join("assignment.toml").display().to_string(),
        "--out",
        &rtl.display().to_string(),
    ]));
    assert!(rtl.join("manifest.json").is_file());
    // The datapath's DialectFP4 quantizer is the online one (two-stage), whatever selector the
    // weights were chosen with offline.
    let toml = std::fs::read_to_string(budget.join("assignment.toml")).unwrap();
    assert!(toml.contains("unit = \"bd-quantizer\""), "{toml}");
    assert!(toml.contains("selector = \"two-stage\""), "{toml}");
    assert!(!toml.contains("selector = \"mse\""), "{toml}");

    let floor = dir.path().join("floor");
    ok(&blockrtl(&[
        "explore",
        "--input",
        &m,
        "--formats",
        "mxfp4,dialectfp4,mxfp6_e2m3,mxint8",
        "--block-sizes",
        "16,32",
        "--synth-target",
        "none",
        "--min-sqnr-db",
        "25",
        "--out",
        &floor.display().to_string(),
    ]));
    let r = read_json(&floor.join("report.json"));
    let a = &r["assignment"];
    for c in a["choices"].as_array().unwrap() {
        assert_eq!(c["met"], true, "{c}");
        assert!(c["sqnr_db"].as_f64().unwrap() >= 25.0, "{c}");
        // Least storage among the configurations that meet the floor (no hardware costs here).
        let best = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["tensor"] == c["tensor"] && e["sqnr_db"].as_f64().unwrap() >= 25.0)
            .map(|e| e["bits_per_element"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(c["bits_per_element"].as_f64().unwrap(), best, "{c}");
    }
}

#[test]
fn hardware_costs_come_from_synth() {
    if common::tool("yosys", "yosys").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = checkpoint(dir.path());
    let out = dir.path().join("hw");
    ok(&blockrtl(&[
        "explore",
        "--input",
        &model.display().to_string(),
        "--formats",
        "mxfp4,mxint8",
        "--block-sizes",
        "8",
        "--synth-target",
        "generic",
        "--min-sqnr-db",
        "30",
        "--out",
        &out.display().to_string(),
    ]));
    let r = read_json(&out.join("report.json"));
    let costs = r["costs"].as_array().unwrap();
    assert_eq!(costs.len(), 2);
    let field = |f: &str, k: &str| costs.iter().find(|c| c["format"] == f).unwrap()[k].clone();
    let cost = |f: &str| field(f, "cost").as_f64().unwrap();
    // An 8-bit integer multiplier array costs more gates than 2-bit significand products.
    assert!(cost("mxint8") > cost("mxfp4"), "{costs:?}");
    // Per element per cycle: the total over the block's 8 lanes.
    let total = field("mxfp4", "total").as_u64().unwrap();
    assert_eq!(cost("mxfp4"), total as f64 / 8.0);
    let q = &costs[0]["quantizer"];
    assert!(q["cells"].as_u64().unwrap() > 0);
}

#[test]
fn searched_formatbook_is_valid_and_never_worse() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = checkpoint(dir.path());
    let out = dir.path().join("book");
    ok(&blockrtl(&[
        "explore",
        "formatbook",
        "--input",
        &model.display().to_string(),
        "--sample-blocks",
        "1024",
        "--max-rounds",
        "2",
        "--out",
        &out.display().to_string(),
    ]));
    let book_path = out.join("formatbook.toml");
    let book = blockrtl::format::Formatbook::load(&book_path).expect("a valid formatbook");
    assert_eq!(book.dialects.len(), 16);
    let r = read_json(&out.join("formatbook-report.json"));
    let train = &r["train_sqnr_db"];
    assert!(
        train["searched"].as_f64().unwrap() >= train["dialectfp4"].as_f64().unwrap(),
        "{train}"
    );
    // Of four tensors, the fourth (in file order) is held out by default.
    let held = r["holdout_tensors"].as_array().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(r["train_tensors"].as_array().unwrap().len(), 3);
    assert!(!r["train_tensors"].as_array().unwrap().contains(&held[0]));
    assert!(r["holdout_sqnr_db"]["searched"].as_f64().is_some());
    // Fewer dialects: a smaller book, still valid.
    let small = dir.path().join("small");
    ok(&blockrtl(&[
        "explore",
        "formatbook",
        "--input",
        &model.display().to_string(),
        "--dialects",
        "4",
        "--sample-blocks",
        "512",
        "--max-rounds",
        "1",
        "--out",
        &small.display().to_string(),
    ]));
    let b4 = blockrtl::format::Formatbook::load(&small.join("formatbook.toml")).unwrap();
    assert_eq!(b4.dialects.len(), 4);
    // The searched book generates lint-clean hardware (the mse selector takes any book).
    let Some(verilator) = common::tool("verilator", "verilator") else {
        return;
    };
    let rtl = dir.path().join("rtl");
    ok(&blockrtl(&[
        "generate",
        "--unit",
        "bd-quantizer",
        "--selector",
        "mse",
        "--formatbook",
        &book_path.display().to_string(),
        "--out",
        &rtl.display().to_string(),
    ]));
    let manifest = read_json(&rtl.join("manifest.json"));
    let top = manifest["designs"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let top = top.as_str();
    let flist = format!("{top}.f");
    common::run_ok(
        &rtl,
        &verilator,
        &["--lint-only", "-Wall", "--top-module", top, "-f", &flist],
    );
}

#[test]
fn bad_explore_requests_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = checkpoint(dir.path());
    let m = model.display().to_string();
    for (args, needle) in [
        (vec!["explore", "--input", &m], "--out"),
        (
            vec!["explore", "--input", &m, "--formats", "mxfp5", "--out", "x"],
            "unknown format",
        ),
        (
            vec![
                "explore",
                "--input",
                &m,
                "--budget-bits-per-element",
                "5",
                "--min-sqnr-db",
                "3",
                "--out",
                "x",
            ],
            "one target",
        ),
        (
            vec![
                "explore",
                "--input",
                &m,
                "--synth-target",
                "none",
                "--formats",
                "mxint8",
                "--budget-bits-per-element",
                "4",
                "--out",
            ],
            "",
        ),
    ] {
        let mut args = args.clone();
        if args.last() == Some(&"--out") {
            let o = dir.path().join("o").display().to_string();
            args.push(Box::leak(o.into_boxed_str()));
        }
        let out = blockrtl(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}

/// Two identical runs write identical reports (wall-clock times go to stderr only); a tensor
/// of NaN and Inf has no SQNR or MSE to report: null in JSON, "n/a" in the tables.
#[test]
fn reports_are_byte_identical_and_unmeasurable_tensors_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let normal = blockrtl::stimulus::tensor(Dist::Normal, 16, 64, InputFormat::F32, 5).unwrap();
    let specials: Vec<u32> = (0..16 * 64)
        .map(|i| match i % 3 {
            0 => f32::NAN.to_bits(),
            1 => f32::INFINITY.to_bits(),
            _ => f32::NEG_INFINITY.to_bits(),
        })
        .collect();
    blockrtl::io::write_tensors(
        &model,
        InputFormat::F32,
        &[
            ("a.weight".into(), vec![16, 64], normal),
            ("b.weight".into(), vec![16, 64], specials),
        ],
    )
    .unwrap();
    let m = model.display().to_string();
    let run = |out: &str| {
        let o = dir.path().join(out);
        let text = ok(&blockrtl(&[
            "explore",
            "--input",
            &m,
            "--formats",
            "mxfp4,dialectfp4",
            "--block-sizes",
            "32",
            "--synth-target",
            "none",
            "--min-sqnr-db",
            "10",
            "--out",
            &o.display().to_string(),
        ]));
        assert!(!text.contains("times:"), "timings belong on stderr: {text}");
        o
    };
    let (a, b) = (run("r1"), run("r2"));
    for f in [
        "report.json",
        "report.md",
        "assignment.toml",
        "pareto.svg",
        "layers.svg",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two identical runs"
        );
    }
    let report = read_json(&a.join("report.json"));
    assert!(report.get("seconds").is_none(), "no timings in report.json");
    let rows = report["errors"].as_array().unwrap();
    let nan_rows: Vec<&Value> = rows.iter().filter(|r| r["tensor"] == "b.weight").collect();
    assert_eq!(nan_rows.len(), 2);
    for r in nan_rows {
        assert!(r["sqnr_db"].is_null(), "{r}");
        assert!(r["mse"].is_null(), "{r}");
    }
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(md.contains("| b.weight | mxfp4 | 32 | n/a | n/a |"), "{md}");
    assert!(!md.contains("inf"), "{md}");
}

/// Rows that a block size does not divide are refused unless `--pad` asks for zero padding.
#[test]
fn rows_that_blocks_do_not_divide_need_pad() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.npy");
    let raw = blockrtl::stimulus::tensor(Dist::Normal, 8, 40, InputFormat::F32, 1).unwrap();
    blockrtl::io::write_tensors(&t, InputFormat::F32, &[("t".into(), vec![8, 40], raw)]).unwrap();
    let args = |out: &str, pad: bool| {
        let mut v: Vec<String> = [
            "explore",
            "--input",
            &t.display().to_string(),
            "--formats",
            "mxfp4",
            "--block-sizes",
            "16",
            "--synth-target",
            "none",
            "--out",
            &dir.path().join(out).display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if pad {
            v.push("--pad".into());
        }
        v
    };
    let refused = blockrtl(
        &args("r", false)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("rows of 40 elements are not a multiple of the block size 16"),
        "{err}"
    );
    let padded = blockrtl(
        &args("p", true)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    ok(&padded);
    let report = read_json(&dir.path().join("p/report.json"));
    assert_eq!(report["errors"][0]["padded"], 8 * 8);
}

/// The scale rule is an axis: each MX format x block size once per rule (dialectfp4 once),
/// each configuration's error the same as `quantize --scale-rule` gives, and an rceil choice
/// in the assignment makes an rceil quantizer.
#[test]
fn scale_rules_are_an_axis_of_the_configurations() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = checkpoint(dir.path());
    let m = model.display().to_string();
    let out = dir.path().join("rules");
    ok(&blockrtl(&[
        "explore",
        "--input",
        &m,
        "--formats",
        "mxfp4,dialectfp4",
        "--block-sizes",
        "32",
        "--scale-rule",
        "floor,rceil",
        "--synth-target",
        "none",
        "--min-sqnr-db",
        "10",
        "--out",
        &out.display().to_string(),
    ]));
    let r = read_json(&out.join("report.json"));
    let configs: Vec<(String, Value)> = r["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["format"].as_str().unwrap().to_string(),
                c["scale_rule"].clone(),
            )
        })
        .collect();
    assert_eq!(
        configs,
        [
            ("mxfp4".to_string(), Value::from("floor")),
            ("mxfp4".to_string(), Value::from("rceil")),
            ("dialectfp4".to_string(), Value::Null),
        ]
    );
    for rule in ["floor", "rceil"] {
        let q: Value = serde_json::from_str(&ok(&blockrtl(&[
            "quantize",
            "--input",
            &m,
            "--format",
            "mxfp4",
            "--scale-rule",
            rule,
            "--json",
        ])))
        .unwrap();
        let explored = r["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scale_rule"] == rule)
            .unwrap();
        assert_eq!(explored["sqnr_db"], q["totals"][0]["sqnr_db"], "{rule}");
    }
    let a = std::fs::read_to_string(out.join("assignment.toml")).unwrap();
    if r["assignment"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["scale_rule"] == "rceil")
    {
        assert!(a.contains("scale_rule = \"rceil\""), "{a}");
    }
    let rtl = dir.path().join("rtl");
    ok(&blockrtl(&[
        "generate",
        "--config",
        &out.join("assignment.toml").display().to_string(),
        "--out",
        &rtl.display().to_string(),
    ]));
}

/// NVFP4 is a format of the exploration: 4 + 8/k bits, the accuracy `quantize` reports for it
/// (each tensor with its own tensor scale), a DotGeneral error with both tensor scales applied,
/// and its hardware: the NVFP4 quantizer and dot units.
#[test]
fn nvfp4_is_explored_next_to_mxfp4_and_dialectfp4() {
    let dir = tempfile::tempdir().unwrap();
    let (model, acts) = checkpoint(dir.path());
    let m = model.display().to_string();
    let out = dir.path().join("nv");
    ok(&blockrtl(&[
        "explore",
        "--input",
        &m,
        "--formats",
        "mxfp4,nvfp4,dialectfp4",
        "--block-sizes",
        "16",
        "--synth-target",
        "none",
        "--activations",
        &acts.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]));
    let r = read_json(&out.join("report.json"));
    let nv = r["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["format"] == "nvfp4")
        .unwrap()
        .clone();
    assert_eq!(nv["bits_per_element"], 4.5);
    assert!(nv["scale_rule"].is_null());
    let q: Value = serde_json::from_str(&ok(&blockrtl(&[
        "quantize", "--input", &m, "--format", "nvfp4", "--json",
    ])))
    .unwrap();
    assert_eq!(nv["sqnr_db"], q["totals"][0]["sqnr_db"]);
    // Without the tensor scales the DotGeneral results would be off by orders of magnitude.
    let dots: Vec<&Value> = r["activations"]["dot"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["format"] == "nvfp4")
        .collect();
    assert!(!dots.is_empty());
    for d in dots {
        assert!(d["sqnr_db"].as_f64().unwrap() > 10.0, "{d}");
    }
    let config = blockrtl::explore::Config {
        format: "nvfp4".into(),
        block_size: 16,
        scale_rule: None,
    };
    let (q, d) = blockrtl::explore::units_of(&config, blockrtl::format::InputFormat::Bf16).unwrap();
    let q = serde_json::to_value(&q).unwrap();
    assert_eq!(q["unit"], "nvfp4-quantizer");
    assert_eq!(q["block_size"], 16);
    assert_eq!(q["input_format"], "bf16");
    let d = serde_json::to_value(&d).unwrap();
    assert_eq!(
        (d["format_a"].clone(), d["format_b"].clone()),
        ("nvfp4".into(), "nvfp4".into())
    );
}
