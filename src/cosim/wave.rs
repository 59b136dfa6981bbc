//! Waveform requests: the file (its format named by its extension), and the window of blocks
//! to trace, checked before anything is built.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveFormat {
    Vcd,
    Fst,
}

#[derive(Debug, Clone)]
pub struct Wave {
    pub path: PathBuf,
    pub format: WaveFormat,
    /// The first block traced (0-based, in input order).
    pub from_block: u64,
    /// Blocks traced from there; None: to the end of the run.
    pub blocks: Option<u64>,
}

impl Wave {
    /// A request for `path`: `.vcd` or `.fst`, into a folder that exists.
    pub fn new(path: &Path, from_block: u64, blocks: Option<u64>) -> Result<Wave> {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("vcd") => WaveFormat::Vcd,
            Some(e) if e.eq_ignore_ascii_case("fst") => WaveFormat::Fst,
            _ => {
                return Err(Error::input(format!(
                    "--wave {}: name the format by the extension, .vcd or .fst",
                    path.display()
                )));
            }
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            return Err(Error::input(format!(
                "--wave {}: the folder {} does not exist",
                path.display(),
                folder.display()
            )));
        }
        if blocks == Some(0) {
            return Err(Error::input("--wave-blocks must be at least 1"));
        }
        Ok(Wave {
            path: path.to_path_buf(),
            format,
            from_block,
            blocks,
        })
    }

    /// The window as beat counts: trace from the `start_in`-th accepted input beat until the
    /// `stop_out`-th output beat (0: to the end).
    pub fn beats(&self, in_per_block: u64, out_per_block: u64) -> (u64, u64) {
        (
            self.from_block * in_per_block,
            self.blocks
                .map_or(0, |n| (self.from_block + n) * out_per_block),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_format_and_the_folder_must_exist() {
        let dir = std::env::temp_dir();
        assert_eq!(
            Wave::new(&dir.join("a.vcd"), 0, None).unwrap().format,
            WaveFormat::Vcd
        );
        assert_eq!(
            Wave::new(&dir.join("a.FST"), 0, None).unwrap().format,
            WaveFormat::Fst
        );
        assert_eq!(
            Wave::new(Path::new("a.fst"), 0, None).unwrap().format,
            WaveFormat::Fst
        );
        let e = Wave::new(&dir.join("a.ghw"), 0, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(".vcd or .fst"), "{e}");
        let e = Wave::new(&dir.join("no-such-folder-x/a.vcd"), 0, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert!(Wave::new(&dir.join("a.vcd"), 3, Some(0)).is_err());
    }

    #[test]
    fn a_window_of_blocks_is_a_window_of_beats() {
        let w = Wave::new(&std::env::temp_dir().join("a.vcd"), 3, Some(2)).unwrap();
        // 4 input beats and 1 output beat per block: from block 3's first input beat until
        // block 4's output is out.
        assert_eq!(w.beats(4, 1), (12, 5));
        let all = Wave::new(&std::env::temp_dir().join("a.vcd"), 0, None).unwrap();
        assert_eq!(all.beats(4, 1), (0, 0));
    }
}
