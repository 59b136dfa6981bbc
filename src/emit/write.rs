//! Careful file output: never clobber what the user did not ask to replace, never leave a
//! half-written file behind.

use crate::error::{Error, Result};
use std::path::Path;

/// Refuse to replace an existing file unless `force`; check the folder exists.
pub fn check_writable_new(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(Error::input(format!(
            "{} exists; refusing to overwrite it (add --force to replace it)",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(Error::input(format!(
            "{}: folder does not exist",
            dir.display()
        )));
    }
    Ok(())
}

/// Write through a temporary file in the same folder and rename it into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// `write_atomic` for output made piece by piece: `body` writes into a buffered temporary file,
/// which replaces `path` only when all of it was written.
pub fn write_atomic_with(
    path: &Path,
    body: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| Error::input(format!("cannot write {}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        body(&mut w).map_err(fail)?;
        std::io::Write::flush(&mut w).map_err(fail)?;
    }
    // A temporary file is private (0600); the result is an ordinary file like any other.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(fail)?;
    }
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
