//! Which formatbook a unit uses: the built-in DialectFP4, or a TOML file, loaded once.

use crate::error::Result;
use crate::format::Formatbook;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookRef {
    pub path: Option<PathBuf>,
    #[serde(skip)]
    loaded: OnceLock<Arc<Formatbook>>,
}

impl PartialEq for BookRef {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for BookRef {}

impl BookRef {
    pub fn file(path: Option<PathBuf>) -> BookRef {
        BookRef {
            path,
            loaded: OnceLock::new(),
        }
    }

    pub fn get(&self) -> Result<Arc<Formatbook>> {
        if let Some(b) = self.loaded.get() {
            return Ok(b.clone());
        }
        let book = match &self.path {
            Some(p) => Arc::new(Formatbook::load(p)?),
            None => Arc::new(Formatbook::dialectfp4()),
        };
        Ok(self.loaded.get_or_init(|| book).clone())
    }

    /// Module-name suffix: empty for the built-in book, else a short hash of its values.
    pub fn name_suffix(&self) -> Result<String> {
        if self.path.is_none() {
            return Ok(String::new());
        }
        let book = self.get()?;
        let mut h = Sha256::new();
        for d in &book.dialects {
            h.update(d);
        }
        let hex: String = h
            .finalize()
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(format!("_b{hex}"))
    }

    /// Banner lines listing the book's dialects.
    pub fn banner_lines(&self) -> Result<Vec<String>> {
        let book = self.get()?;
        let mut v = vec![format!(
            "formatbook {} ({} dialects, values in half-units):",
            book.name,
            book.len()
        )];
        for (id, d) in book.dialects.iter().enumerate() {
            v.push(format!("  dialect {id:2}: {d:?}"));
        }
        Ok(v)
    }
}
