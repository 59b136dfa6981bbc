//! `cosim --rtl DIR`: simulate the user's Verilog (an edited generated design, or their own
//! implementation of the same ports) in place of the generated design, against the same golden
//! model, harness, stimulus and stalls.

use crate::emit::design::{Design, GenFile};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct RtlSource {
    pub dir: PathBuf,
    /// The top module; default: the generated design's.
    pub top: Option<String>,
}

/// Most Verilog read from one folder: more is not a design but a mistake.
const MAX_RTL_BYTES: u64 = 64 << 20;

impl RtlSource {
    /// The generated design with its files replaced by the folder's: `<top>.f` when present
    /// (the list `generate` writes), else every `.v` / `.sv` file, in name order. Ports, timing
    /// and framing stay the unit's: the user's RTL must have the same ports.
    pub fn apply(&self, mut design: Design) -> Result<Design> {
        let top = self.top.clone().unwrap_or_else(|| design.top.clone());
        if !is_identifier(&top) {
            return Err(Error::input(format!(
                "--top '{top}' is not a Verilog module name"
            )));
        }
        let dir = &self.dir;
        if !dir.is_dir() {
            return Err(Error::input(format!(
                "--rtl {}: not a folder",
                dir.display()
            )));
        }
        let names = self.file_names(&top)?;
        let mut total = 0u64;
        let mut files = Vec::new();
        for rel in &names {
            let path = dir.join(rel);
            // The whole folder shares one budget, so no file is read past it.
            let contents = crate::user_file::read_text(&path, MAX_RTL_BYTES - total)
                .map_err(|e| Error::input(format!("--rtl: {}: {e}", path.display())))?;
            total += contents.len() as u64;
            // Files land flat in the build folder, under their own names (Verilator checks that
            // a file's name is its module's).
            let base = Path::new(rel)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if files.iter().any(|f: &GenFile| f.name == base) {
                return Err(Error::input(format!(
                    "--rtl {}: two files named {base}",
                    dir.display()
                )));
            }
            files.push(GenFile::rtl(base, contents));
        }
        let header = files
            .iter()
            .find_map(|f| module_header(&f.contents, &top))
            .ok_or_else(|| {
                Error::input(format!(
                    "--rtl {}: no file declares module {top} (give --top NAME)",
                    dir.display()
                ))
            })?;
        let missing: Vec<&str> = crate::emit::design::interface(&design.ports)
            .into_iter()
            .map(|p| p.name)
            .filter(|p| !has_word(header, p))
            .collect();
        if !missing.is_empty() {
            return Err(Error::input(format!(
                "--rtl {}: module {top} lacks the port(s) {} of {}",
                dir.display(),
                missing.join(", "),
                design.top
            )));
        }
        design.files = files;
        design.top = top;
        design.user_rtl = true;
        Ok(design)
    }

    fn file_names(&self, top: &str) -> Result<Vec<String>> {
        let list = self.dir.join(format!("{top}.f"));
        if list.is_file() {
            let text = crate::user_file::read_text(&list, MAX_RTL_BYTES)
                .map_err(|e| Error::input(format!("{}: {e}", list.display())))?;
            let names: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#'))
                .map(String::from)
                .collect();
            if let Some(opt) = names
                .iter()
                .find(|n| n.starts_with('-') || n.starts_with('+'))
            {
                return Err(Error::input(format!(
                    "{}: '{opt}': only file names are read from a file list here",
                    list.display()
                )));
            }
            if names.is_empty() {
                return Err(Error::input(format!("{}: lists no files", list.display())));
            }
            return Ok(names);
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::input(format!("cannot list {}: {e}", self.dir.display())))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".v") || n.ends_with(".sv"))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(Error::input(format!(
                "--rtl {}: no {top}.f and no .v or .sv files",
                self.dir.display()
            )));
        }
        Ok(names)
    }
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '$')
}

/// The text from `module top` to the end of its port list (the first `);`), if a line of
/// `text` declares it.
fn module_header<'a>(text: &'a str, top: &str) -> Option<&'a str> {
    let re = regex::Regex::new(&format!(r"(?m)^\s*module\s+{}\b", regex::escape(top)))
        .expect("an escaped identifier makes a valid pattern");
    let rest = &text[re.find(text)?.start()..];
    let end = rest.find(");").map_or(rest.len(), |e| e + 2);
    Some(&rest[..end])
}

fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let ident =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        !ident(before) && !ident(after)
    })
}
