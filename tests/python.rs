//! The Python package (python/): installs it into the test venv `.venv-py` (made by
//! scripts/install-python-venv.sh) the way a user does, from source with maturin, and runs its
//! pytest suite, which compares it with the built `blockrtl` CLI and independent numpy models.

use std::path::Path;
use std::process::Command;

fn venv_python() -> Option<std::path::PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-py/bin/python");
    if py.exists() {
        return Some(py);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the Python test venv is required under CI=true: bash scripts/install-python-venv.sh"
        );
    }
    eprintln!(
        "SKIP: .venv-py not found (bash scripts/install-python-venv.sh); the Python tests need it"
    );
    None
}

/// Run a command to success; its stdout.
fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{what} failed:\n{stdout}{stderr}");
    eprintln!("{what}: {}", stdout.lines().last().unwrap_or(""));
    stdout
}

#[test]
fn python_package_installs_and_passes_its_tests() {
    let Some(py) = venv_python() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv_bin = py.parent().unwrap();
    let cli_dir = Path::new(env!("CARGO_BIN_EXE_blockrtl")).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        venv_bin.display(),
        cli_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // --no-build-isolation: maturin comes from the venv, so this needs no network.
    run(
        Command::new(&py)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args([
                "--no-build-isolation",
                "--no-deps",
                "--force-reinstall",
                "./python",
            ])
            .current_dir(root)
            .env("PATH", &path),
        "pip install ./python",
    );
    run(
        Command::new(&py)
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "python/tests",
            ])
            .current_dir(root)
            .env("PATH", &path)
            .env("BLOCKRTL_BIN", env!("CARGO_BIN_EXE_blockrtl")),
        "pytest python/tests",
    );
    example_prints_the_cli_sqnr(&py, &path);
}

/// examples/python_sqnr.py on a checkpoint the CLI makes: one row per matrix, and its numpy
/// SQNR equal (to the two decimals printed) to the figure `blockrtl quantize` reports.
fn example_prints_the_cli_sqnr(py: &Path, path: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cli = env!("CARGO_BIN_EXE_blockrtl");
    let ckpt = dir.path().join("m.safetensors");
    let ckpt_s = ckpt.to_str().unwrap();
    run(
        Command::new(cli)
            .args([
                "make-tensor",
                "--dist",
                "outlier",
                "--shape",
                "64x256",
                "--count",
                "2",
            ])
            .args(["--out", ckpt_s]),
        "make-tensor",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python_sqnr.py");
    let out = run(
        Command::new(py)
            .arg(&script)
            .args([ckpt_s, "--format", "mxfp4,dialectfp4"])
            .env("PATH", path),
        "examples/python_sqnr.py",
    );
    let report = run(
        Command::new(cli).args([
            "quantize",
            "--input",
            ckpt_s,
            "--format",
            "mxfp4,dialectfp4",
            "--json",
        ]),
        "quantize --json",
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    for row in report["rows"].as_array().unwrap() {
        let (tensor, format) = (
            row["tensor"].as_str().unwrap(),
            row["format"].as_str().unwrap(),
        );
        let col = if format == "mxfp4" { 2 } else { 3 };
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(tensor))
            .unwrap_or_else(|| panic!("no row for {tensor} in:\n{out}"));
        let cell = line.split_whitespace().nth(col).unwrap();
        let want = format!("{:.2}", row["sqnr_db"].as_f64().unwrap());
        assert_eq!(cell, want, "{tensor} {format}:\n{out}");
    }
}
