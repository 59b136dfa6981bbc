//! The per-user cache of tool runs (Verilator builds, synthesis reports): where it lives, how
//! an entry is keyed, and how a run's folder is made privately and then moved into place, so
//! parallel runs never collide.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// $BLOCKRTL_CACHE, else $XDG_CACHE_HOME/blockrtl, else ~/.cache/blockrtl.
pub fn root() -> PathBuf {
    if let Some(p) = std::env::var_os("BLOCKRTL_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("blockrtl");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("blockrtl"),
        None => std::env::temp_dir().join("blockrtl-cache"),
    }
}

/// 16 hex digits of SHA-256 over the parts (each ended by a NUL, so parts cannot run together).
pub fn key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A private folder inside `parent` (created if missing) for one run; moved into place with
/// `publish` when the run succeeds.
pub fn scratch(parent: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(parent)
        .map_err(|e| Error::tool(format!("cannot create cache {}: {e}", parent.display())))?;
    tempfile::Builder::new()
        .prefix(&format!(".{prefix}-"))
        .tempdir_in(parent)
        .map_err(|e| {
            Error::tool(format!(
                "cannot create a folder in {}: {e}",
                parent.display()
            ))
        })
}

/// Move a finished run's folder to `dir`. If `dir` is already there, another run of the same
/// inputs finished first: keep theirs, or with `replace` (a stale entry) put ours instead.
pub fn publish(run: &Path, dir: &Path, replace: bool) {
    if std::fs::rename(run, dir).is_ok() {
        return;
    }
    if replace {
        let _ = std::fs::remove_dir_all(dir);
        if std::fs::rename(run, dir).is_ok() {
            return;
        }
    }
    let _ = std::fs::remove_dir_all(run);
}

/// Write one file of a run's folder.
pub fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    std::fs::write(dir.join(name), text)
        .map_err(|e| Error::tool(format!("cannot write {}: {e}", dir.join(name).display())))
}
