//! The `generate` and `cosim` commands from the outside: reference outputs, determinism,
//! never clobbering foreign files, and bad parameters.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .output()
        .expect("runs")
}

fn assert_exit(out: &Output, code: i32, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// rtl_out/ holds the generated reference configurations: regenerating them from
/// verif/reference.toml gives the committed files byte for byte.
#[test]
fn reference_outputs_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = blockrtl(&[
        "generate",
        "--config",
        root.join("verif/reference.toml").to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = listing(dir.path());
    let committed = listing(&root.join("rtl_out"));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&committed),
        "rtl_out/ has other files than generate makes"
    );
    for ((name, a), (_, b)) in fresh.iter().zip(&committed) {
        assert!(
            a == b,
            "rtl_out/{name} differs from what generate makes now: regenerate with `blockrtl generate --config verif/reference.toml --out rtl_out`"
        );
    }
}

/// The banner's regenerate command (derived from the serde form of the settings) makes the
/// same Verilog: run for every reference design, from the repository root (a custom
/// formatbook's path is relative to it), each gives its top module's files byte for byte.
#[test]
fn every_banner_regenerate_command_reproduces_its_design() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("rtl_out/manifest.json")).unwrap())
            .unwrap();
    let designs = manifest["designs"].as_object().unwrap();
    assert!(designs.len() >= 20, "the reference holds every unit");
    for (top, d) in designs {
        let top_file = std::fs::read_to_string(root.join(format!("rtl_out/{top}.v"))).unwrap();
        let command = top_file
            .lines()
            .find_map(|l| l.strip_prefix("// regenerate: blockrtl "))
            .unwrap_or_else(|| panic!("{top}.v states no regenerate command"));
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = command.split(' ').collect();
        let out_dir = dir.path().to_str().unwrap();
        args.extend(["--out", out_dir]);
        let out = Command::new(env!("CARGO_BIN_EXE_blockrtl"))
            .args(&args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{top}: `{command}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for f in d["files"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            assert!(
                std::fs::read(dir.path().join(name)).unwrap()
                    == std::fs::read(root.join("rtl_out").join(name)).unwrap(),
                "{top}: `{command}` makes a different {name}"
            );
        }
    }
}

#[test]
fn output_is_byte_identical_and_unchanged_files_are_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = [
        "generate",
        "--unit",
        "mx-quantizer",
        "--format",
        "mxfp6_e3m2",
        "--block-size",
        "16",
        "--lanes",
        "4",
        "--out",
        d,
    ];
    assert!(blockrtl(&args).status.success());
    let first = listing(dir.path());
    let again = blockrtl(&args);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 written, 9 unchanged"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(listing(dir.path()), first);
    // The manifest collects every design generated into the folder.
    let other = [
        "generate",
        "--unit",
        "mx-quantizer",
        "--format",
        "mxint8",
        "--out",
        d,
    ];
    assert!(blockrtl(&other).status.success());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let designs = m["designs"].as_object().unwrap();
    assert_eq!(designs.len(), 2);
    let e = &designs["mxq_e3m2_f32_k16_l4_p2"];
    assert_eq!(e["latency_cycles"], 6);
    assert_eq!(e["beats_per_block"], 4);
    // Every port of the module, in the order its header declares them, with its role.
    let ports = e["ports"].as_array().unwrap();
    let names: Vec<&str> = ports.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let top = std::fs::read_to_string(dir.path().join("mxq_e3m2_f32_k16_l4_p2.v")).unwrap();
    let header = top.split("module mxq_e3m2_f32_k16_l4_p2 (").nth(1).unwrap();
    let header = &header[..header.find(");").unwrap()];
    let declared: Vec<&str> = header
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').split_whitespace().last())
        .collect();
    assert_eq!(names, declared);
    assert_eq!(
        names,
        [
            "clk_i", "rst_ni", "valid_i", "ready_o", "data_i", "valid_o", "ready_i", "scale_o",
            "codes_o", "nan_o", "last_o"
        ]
    );
    assert_eq!(ports[0]["role"], "clock");
    assert_eq!(ports[1]["role"], "reset");
    assert_eq!(ports[2]["role"], "handshake");
    assert_eq!(ports[4]["role"], "data");
    assert_eq!(ports[4]["width"], 128);
    assert_eq!(ports[4]["elem_width"], 32);
    assert_eq!(ports[4]["count"], 4);
    assert_eq!(e["files"].as_array().unwrap().len(), 3);
}

#[test]
fn foreign_files_are_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mine = dir.path().join("mxq_e2m1_f32_k32_l32_p2.v");
    std::fs::write(&mine, "// my own hand-written module\n").unwrap();
    let args = [
        "generate",
        "--unit",
        "mx-quantizer",
        "--format",
        "mxfp4",
        "--out",
        d,
    ];
    assert_exit(
        &blockrtl(&args),
        2,
        "not generated by blockrtl; refusing to overwrite",
    );
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "// my own hand-written module\n"
    );
    // Nothing else was written either: the refusal comes before any write.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let mut forced = args.to_vec();
    forced.push("--force");
    assert!(blockrtl(&forced).status.success());
    assert!(
        std::fs::read_to_string(&mine)
            .unwrap()
            .contains("@generated by blockrtl")
    );
}

#[test]
fn bad_parameters_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let generate = |extra: &[&str]| {
        let mut a = vec!["generate", "--unit", "mx-quantizer", "--out", d];
        a.extend_from_slice(extra);
        blockrtl(&a)
    };
    assert_exit(
        &generate(&["--format", "mxfp4", "--lanes", "5"]),
        2,
        "lanes 5 must divide the block size 32",
    );
    assert_exit(
        &generate(&["--format", "mxfp4", "--block-size", "0"]),
        2,
        "block size must be at least 1",
    );
    assert_exit(
        &generate(&["--format", "mxfp4", "--block-size", "24"]),
        2,
        "powers of two",
    );
    assert_exit(
        &generate(&["--format", "mxfp5"]),
        2,
        "unknown format 'mxfp5'",
    );
    assert_exit(&generate(&[]), 2, "needs --format");
    // An --out below a regular file cannot be created.
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let bad_out = file.join("sub");
    let out = blockrtl(&[
        "generate",
        "--unit",
        "mx-quantizer",
        "--format",
        "mxfp4",
        "--out",
        bad_out.to_str().unwrap(),
    ]);
    assert_exit(&out, 2, "cannot create --out");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
    // The config file path: unknown keys are named.
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[unit]]\nunit = \"mx-quantizer\"\nformat = \"mxfp4\"\nblock_size = 32\nlane = 8\n",
    )
    .unwrap();
    assert_exit(
        &blockrtl(&["generate", "--config", cfg.to_str().unwrap(), "--out", d]),
        2,
        "lane",
    );
}

/// Without Verilator on PATH, cosim says which package to install (and does not panic).
#[test]
fn cosim_without_verilator_names_the_package() {
    let out = Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args([
            "cosim",
            "--unit",
            "mx-quantizer",
            "--format",
            "mxfp4",
            "--blocks",
            "10",
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_exit(&out, 1, "apt-get install verilator");
}

/// One source of defaults: for every unit, `generate --unit U <flags>` and a `[[unit]]` table
/// with the same keys make the same top module and byte-identical files, with only the required
/// keys (everything else at its default) and with every key given.
#[test]
fn flags_and_config_tables_make_the_same_hardware() {
    let cases: [&[(&str, &str)]; 12] = [
        &[("unit", "mx-quantizer"), ("format", "mxfp4")],
        &[
            ("unit", "mx-quantizer"),
            ("format", "mxfp8_e4m3"),
            ("block_size", "16"),
            ("input_format", "bf16"),
            ("lanes", "4"),
            ("pipeline", "3"),
            ("flush_subnormals", "true"),
        ],
        &[("unit", "bd-quantizer")],
        &[
            ("unit", "bd-quantizer"),
            ("block_size", "16"),
            ("input_format", "f16"),
            ("selector", "mse"),
            ("frac_bits", "3"),
            ("scale", "e5"),
            ("lanes", "4"),
            ("pipeline", "1"),
            ("formatbook", "verif/book4.toml"),
        ],
        &[("unit", "bd-selector")],
        &[
            ("unit", "bd-selector"),
            ("block_size", "8"),
            ("selector", "mse"),
            ("frac_bits", "4"),
            ("pipeline", "0"),
        ],
        &[
            ("unit", "dot"),
            ("format_a", "mxfp4"),
            ("format_b", "mxint8"),
        ],
        &[
            ("unit", "dot"),
            ("format_a", "dialectfp4"),
            ("format_b", "mxfp8_e5m2"),
            ("block_size", "16"),
            ("lanes", "8"),
            ("pipeline", "4"),
            ("accumulate", "fixed"),
            ("dot_length", "3"),
            ("acc_width", "40"),
            ("acc_lsb", "-12"),
        ],
        &[
            ("unit", "dot"),
            ("format_a", "mxfp6_e2m3"),
            ("format_b", "mxfp6_e3m2"),
            ("accumulate", "fp32"),
            ("dot_length", "4"),
        ],
        &[("unit", "dequantizer"), ("format", "mxint8")],
        &[
            ("unit", "dequantizer"),
            ("format", "dialectfp4"),
            ("block_size", "16"),
            ("lanes", "4"),
            ("pipeline", "5"),
            ("output_format", "f16"),
            ("formatbook", "verif/book4.toml"),
        ],
        &[
            ("unit", "nvfp4-quantizer"),
            ("input_format", "f16"),
            ("block_size", "32"),
            ("pipeline", "5"),
        ],
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (i, keys) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("flags"), dir.path().join("toml"));
        let mut args: Vec<String> = vec!["generate".into()];
        let mut table = String::from("[[unit]]\n");
        for (k, v) in keys.iter() {
            let number = v.parse::<i64>().is_ok() || *v == "true";
            table.push_str(&format!(
                "{k} = {}\n",
                if number {
                    v.to_string()
                } else {
                    format!("\"{v}\"")
                }
            ));
            args.push(format!("--{}", k.replace('_', "-")));
            if *v != "true" {
                args.push(v.to_string());
            }
        }
        let toml = dir.path().join("u.toml");
        std::fs::write(&toml, &table).unwrap();
        args.extend(["--out".into(), a.display().to_string()]);
        let run = |args: &[String]| {
            let out = Command::new(env!("CARGO_BIN_EXE_blockrtl"))
                .current_dir(root)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "case {i} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&args);
        run(&[
            "generate".into(),
            "--config".into(),
            toml.display().to_string(),
            "--out".into(),
            b.display().to_string(),
        ]);
        let (fa, fb) = (listing(&a), listing(&b));
        assert!(!fa.is_empty());
        assert_eq!(
            fa.iter().map(|f| &f.0).collect::<Vec<_>>(),
            fb.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "case {i}: other files (another top module?)\n{table}"
        );
        for ((name, x), (_, y)) in fa.iter().zip(&fb) {
            assert!(x == y, "case {i}: {name} differs\n{table}");
        }
    }
}

/// A flag the chosen unit does not take is refused, naming it (it used to be ignored).
#[test]
fn flags_for_another_unit_are_refused() {
    for (args, needle) in [
        (
            &["--unit", "bd-quantizer", "--format", "mxfp4"][..],
            "--format does not apply to --unit bd-quantizer",
        ),
        (
            &[
                "--unit",
                "mx-quantizer",
                "--format",
                "mxfp4",
                "--selector",
                "mse",
            ][..],
            "--selector does not apply to --unit mx-quantizer",
        ),
        (
            &[
                "--unit",
                "dot",
                "--format-a",
                "mxfp4",
                "--format-b",
                "mxfp4",
                "--input-format",
                "bf16",
            ][..],
            "--input-format does not apply to --unit dot",
        ),
        (
            &["--unit", "mx-quantizer"][..],
            "--unit mx-quantizer needs --format",
        ),
        (
            &["--unit", "dot", "--format-a", "mxfp4"][..],
            "--unit dot needs --format-b",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut a = vec!["generate", "--out", dir.path().to_str().unwrap()];
        a.extend(args);
        let out = blockrtl(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

/// Each unit's `Unit::NAME` is the name its `[[unit]]` tables use (the serde tag), so the
/// command line's list of units cannot drift from the config files'.
#[test]
fn unit_names_are_the_config_tags() {
    for name in blockrtl::units::UnitParams::NAMES {
        let v = serde_json::json!({"unit": name});
        let err = serde_json::from_value::<blockrtl::units::UnitParams>(v)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.contains("unknown variant"), "{name}: {err}");
    }
}

/// The defaults `--help` states for unit flags are the serde defaults (`units::defaults`), the
/// only place they live.
#[test]
fn help_states_the_serde_defaults() {
    use blockrtl::units::defaults as d;
    let help = String::from_utf8(blockrtl(&["generate", "--help"]).stdout).unwrap();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for (flag, value) in [
        ("--block-size", d::BLOCK_SIZE.to_string()),
        ("--pipeline", d::PIPELINE.to_string()),
        ("--frac-bits", d::FRAC_BITS.to_string()),
        ("--selector", d::SELECTOR.name().to_string()),
        ("--dot-length", d::DOT_LENGTH.to_string()),
        ("--acc-width", d::ACC_WIDTH.to_string()),
        ("--acc-lsb", d::ACC_LSB.to_string()),
    ] {
        let at = flat
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{flag} not in help"));
        let text = &flat[at..];
        let next = text[2..].find(" --").map_or(text.len(), |i| i + 2);
        assert!(
            text[..next].contains(&format!("[default: {value}]")),
            "{flag}: help says {:?}, serde default is {value}",
            &text[..next]
        );
    }
}

/// `--memories ecp5` writes the tile's deep memories as DP16KD block RAMs (Yosys's ECP5 flow
/// keeps them as such, one per 1024 words of 18 bits), records it in the manifest, leaves the
/// FuseSoC core without a Verilator lint target, and is refused beside a testbench.
#[test]
fn ecp5_memories_are_block_rams_in_the_generated_files() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "generate",
        "--unit",
        "gemm",
        "--format-x",
        "mxfp4",
        "--format-w",
        "mxfp4",
        "--in-features",
        "384",
        "--out-features",
        "64",
        "--rows",
        "1",
        "--cols",
        "1",
        "--memories",
        "ecp5",
        "--out",
        dir.path().to_str().unwrap(),
    ];
    let out = blockrtl(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    let design = manifest["designs"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(design["memories"], "ecp5", "{manifest}");
    let top = design["top"].as_str().unwrap().to_string();
    let core = std::fs::read_to_string(dir.path().join(format!("{top}.core"))).unwrap();
    assert!(!core.contains("flow: lint"), "{core}");
    // The weight memory: 64 rows x 12 blocks = 768 words of a block's codes and scale (136
    // bits): one bank of 8 blocks 18 bits wide.
    let wram = dir.path().join(format!("{top}_wram0.v"));
    let text = std::fs::read_to_string(&wram).unwrap();
    assert_eq!(text.matches("DP16KD #(").count(), 8, "{text}");
    if let Some(yosys) = common::tool("yosys", "yosys") {
        let name = format!("{top}_wram0");
        let out = Command::new(yosys)
            .current_dir(dir.path())
            .args([
                "-q",
                "-p",
                &format!("read_verilog {name}.v; synth_ecp5 -top {name}; tee -o stat.txt stat"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stat = std::fs::read_to_string(dir.path().join("stat.txt")).unwrap();
        let line = stat
            .lines()
            .find(|l| l.trim_start().starts_with("DP16KD"))
            .unwrap_or_else(|| panic!("no DP16KD in {stat}"));
        assert_eq!(line.split_whitespace().last(), Some("8"), "{stat}");
    }
    // A testbench simulates the inferred memories.
    let mut with_tb = args.to_vec();
    with_tb.extend(["--testbench", "10"]);
    assert_exit(&blockrtl(&with_tb), 2, "does not take --memories ecp5");
}
