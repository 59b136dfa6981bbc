//! Reading a file the user named: only a regular file, and only up to a limit, so a device, a
//! pipe or a huge file is refused with one line instead of read forever.

use std::path::Path;

/// Why the file may not be read, if it may not: not a regular file, or over `max_bytes`.
fn check(path: &Path, max_bytes: u64) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it ({e})"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "{} bytes, more than the {} MiB this file may have",
            meta.len(),
            max_bytes >> 20
        ));
    }
    Ok(())
}

/// The file's bytes, or why not (the caller turns the reason into its own error).
pub fn read(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    check(path, max_bytes)?;
    std::fs::read(path).map_err(|e| format!("cannot read it ({e})"))
}

/// The file mapped read-only (only the pages used are read), under the same checks as `read`.
pub fn map(path: &Path, max_bytes: u64) -> Result<memmap2::Mmap, String> {
    check(path, max_bytes)?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it ({e})"))?;
    // SAFETY: the map is only read; a file changed under us by another process can at worst
    // give wrong values for this run, which no reader of a file can prevent.
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("cannot map it ({e})"))
}

/// The file as UTF-8 text.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    String::from_utf8(read(path, max_bytes)?).map_err(|_| "not UTF-8 text".to_string())
}
