//! Real checkpoints: matrices by default with the rest listed as skipped, `--all-shapes`,
//! `--exclude`, sharded checkpoints through their index, and float64 `.npy` with a reported
//! conversion.

use safetensors::{Dtype, tensor::TensorView};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn blockrtl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blockrtl"))
        .args(args)
        .output()
        .expect("runs")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn f32_bytes(n: usize, seed: u32) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (((i as u32 * 37 + seed) % 101) as f32 / 50.0 - 1.0).to_le_bytes())
        .collect()
}

/// A checkpoint holding a weight matrix, a norm vector, a 3-D tensor and an integer tensor.
fn mixed(dir: &Path) -> PathBuf {
    let (w, norm, cube, ids) = (
        f32_bytes(4 * 64, 1),
        f32_bytes(64, 2),
        f32_bytes(2 * 3 * 32, 3),
        vec![0u8; 8 * 4],
    );
    let tensors = [
        (
            "layers.0.mlp.weight",
            TensorView::new(Dtype::F32, vec![4, 64], &w).unwrap(),
        ),
        (
            "layers.0.norm.weight",
            TensorView::new(Dtype::F32, vec![64], &norm).unwrap(),
        ),
        (
            "layers.0.conv.weight",
            TensorView::new(Dtype::F32, vec![2, 3, 32], &cube).unwrap(),
        ),
        (
            "position_ids",
            TensorView::new(Dtype::I64, vec![4], &ids).unwrap(),
        ),
    ];
    let path = dir.join("mixed.safetensors");
    safetensors::serialize_to_file(tensors, None, &path).unwrap();
    path
}

fn quantize(input: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "quantize",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "mxfp4",
    ];
    args.extend_from_slice(extra);
    blockrtl(&args)
}

fn tensors(v: &Value) -> Vec<String> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tensor"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn matrices_are_taken_by_default_and_the_rest_listed() {
    let dir = tempfile::tempdir().unwrap();
    let ck = mixed(dir.path());
    let v = json(&quantize(&ck, &["--json"]));
    assert_eq!(tensors(&v), ["layers.0.mlp.weight"]);
    let skipped: Vec<(&str, &str)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped.contains(&(
        "layers.0.norm.weight",
        "1-D (a norm or bias vector; --all-shapes takes it as one row)"
    )));
    assert!(
        skipped
            .iter()
            .any(|(n, r)| *n == "layers.0.conv.weight" && r.starts_with("3-D"))
    );
    assert!(skipped.contains(&("position_ids", "dtype I64")));
    // The text report lists them too.
    let text = String::from_utf8_lossy(&quantize(&ck, &[]).stdout).to_string();
    assert!(
        text.contains("skipped 3 tensor(s): layers.0.conv.weight (3-D"),
        "{text}"
    );

    // --all-shapes: the vector is one row, the 3-D tensor 6 rows of 32.
    let v = json(&quantize(&ck, &["--all-shapes", "--json"]));
    assert_eq!(
        tensors(&v),
        [
            "layers.0.conv.weight",
            "layers.0.mlp.weight",
            "layers.0.norm.weight"
        ]
    );
    assert_eq!(v["rows"][0]["blocks"], 6);
    assert_eq!(v["rows"][2]["blocks"], 2);

    // --exclude leaves out by name, and says so.
    let v = json(&quantize(
        &ck,
        &["--all-shapes", "--exclude", "norm|conv", "--json"],
    ));
    assert_eq!(tensors(&v), ["layers.0.mlp.weight"]);
    let excluded = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == "excluded by --exclude")
        .count();
    assert_eq!(excluded, 2);

    // Nothing left to quantize is an input error that says what was skipped.
    let out = quantize(&ck, &["--exclude", "mlp"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no F32, BF16 or F16 matrix") && err.contains("skipped 4"),
        "{err}"
    );
}

/// Two shards and their index, as Hugging Face writes them.
fn sharded(dir: &Path) -> PathBuf {
    let (a, b) = (f32_bytes(2 * 32, 5), f32_bytes(3 * 32, 6));
    safetensors::serialize_to_file(
        [(
            "model.a.weight",
            TensorView::new(Dtype::F32, vec![2, 32], &a).unwrap(),
        )],
        None,
        &dir.join("model-00001-of-00002.safetensors"),
    )
    .unwrap();
    safetensors::serialize_to_file(
        [(
            "model.b.weight",
            TensorView::new(Dtype::F32, vec![3, 32], &b).unwrap(),
        )],
        None,
        &dir.join("model-00002-of-00002.safetensors"),
    )
    .unwrap();
    let index = dir.join("model.safetensors.index.json");
    std::fs::write(
        &index,
        r#"{"metadata": {"total_size": 640}, "weight_map": {
            "model.a.weight": "model-00001-of-00002.safetensors",
            "model.b.weight": "model-00002-of-00002.safetensors"}}"#,
    )
    .unwrap();
    index
}

#[test]
fn a_sharded_checkpoint_reads_through_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let index = sharded(dir.path());
    let v = json(&quantize(&index, &["--json"]));
    assert_eq!(tensors(&v), ["model.a.weight", "model.b.weight"]);
    // The same numbers as each shard on its own.
    for (i, shard) in ["model-00001-of-00002", "model-00002-of-00002"]
        .iter()
        .enumerate()
    {
        let alone = json(&quantize(
            &dir.path().join(format!("{shard}.safetensors")),
            &["--json"],
        ));
        assert_eq!(alone["rows"][0], v["rows"][i]);
    }
    let v = json(&quantize(&index, &["--tensor", "b", "--json"]));
    assert_eq!(tensors(&v), ["model.b.weight"]);

    // An index that points outside its folder, or at a missing shard, is refused in one line.
    for (text, says) in [
        (
            r#"{"weight_map": {"x": "../elsewhere.safetensors"}}"#,
            "beside the index",
        ),
        (
            r#"{"weight_map": {"x": "missing.safetensors"}}"#,
            "cannot read it",
        ),
        (r#"{"weights": {}}"#, "weight_map"),
    ] {
        let bad = dir.path().join("bad.safetensors.index.json");
        std::fs::write(&bad, text).unwrap();
        let out = quantize(&bad, &[]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{text}: {err}");
    }
}

#[test]
fn float64_npy_is_converted_to_float32_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let exact = dir.path().join("exact.npy");
    let inexact = dir.path().join("inexact.npy");
    // NumPy's default dtype: 0.25 steps are FP32 values, 0.1 is not, 1e300 overflows.
    npyz::to_file_1d(&exact, (0..64).map(|i| f64::from(i) * 0.25 - 8.0)).unwrap();
    let mut values: Vec<f64> = (0..64).map(|i| 0.1 * f64::from(i)).collect();
    values[5] = 1e300;
    npyz::to_file_1d(&inexact, values.iter().copied()).unwrap();

    let v = json(&quantize(&exact, &["--json"]));
    assert_eq!(v["rows"][0]["elements"], 64);
    assert_eq!(
        v["notes"][0],
        format!(
            "{}: float64 converted to float32 (round to nearest even): 0 of 64 values changed, 0 overflowed to infinity",
            exact.display()
        )
    );
    let v = json(&quantize(&inexact, &["--json"]));
    // 0.0 and 0.5, 1.0, ... (multiples of 5 x 0.1 that are exact after rounding) stay; the
    // rest change, and 1e300 becomes infinity (its block a NaN block).
    let changed = values.iter().filter(|&&x| f64::from(x as f32) != x).count();
    assert!(changed > 50);
    assert_eq!(
        v["notes"][0],
        format!(
            "{}: float64 converted to float32 (round to nearest even): {changed} of 64 values changed, 1 overflowed to infinity",
            inexact.display()
        )
    );
    assert_eq!(v["rows"][0]["nan_blocks"], 1);
    let text = String::from_utf8_lossy(&quantize(&exact, &[]).stdout).to_string();
    assert!(
        text.contains("note: ") && text.contains("float64 converted"),
        "{text}"
    );
}
