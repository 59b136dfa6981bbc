//! Every script in `examples/` runs as written, from an empty folder, with the built `blockrtl`
//! first on the PATH. A script names the external tools it needs on a `# needs:` line.

mod common;

use std::path::{Path, PathBuf};

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
    for script in &scripts {
        let tools = needs(script);
        if tools.iter().any(|t| common::tool(t, t).is_none()) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let start = std::time::Instant::now();
        common::bash_with_blockrtl(dir.path(), &[script.to_str().unwrap()]);
        eprintln!(
            "{}: ok in {:.1} s",
            script.file_name().unwrap().to_string_lossy(),
            start.elapsed().as_secs_f64()
        );
    }
}
