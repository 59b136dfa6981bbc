//! Every script in `examples/` runs as written, from an empty folder, with the built `blockrtl`
//! first on the PATH. A script names the external tools it needs on a `# needs:` line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    v.sort();
    v
}

fn needs(script: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(script).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# needs:"))
        .unwrap_or_else(|| panic!("{} has no `# needs:` line", script.display()));
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn every_example_script_runs_as_written() {
    let scripts = scripts();
    assert!(scripts.len() >= 4, "{scripts:?}");
    let bin = Path::new(env!("CARGO_BIN_EXE_blockrtl")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for script in &scripts {
        let tools = needs(script);
        if tools.iter().any(|t| common::tool(t, t).is_none()) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let start = std::time::Instant::now();
        let out = Command::new("bash")
            .arg(script)
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{} failed:\n{text}", script.display());
        eprintln!(
            "{}: ok in {:.1} s",
            script.file_name().unwrap().to_string_lossy(),
            start.elapsed().as_secs_f64()
        );
    }
}
