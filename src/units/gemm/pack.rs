//! The weight memory images of a gemm tile: one memory per tile column, one word per weight
//! block, packed bit by bit (bitvec) in the layout the generated RTL reads:
//! bits 7:0 the E8M0 scale, then the dialect id (DialectFP4, 4 bits), then the k element codes,
//! element 0 lowest. Column c's word g * (K/k) + b is block b of weight row g * C + c.

use super::GemmParams;
use super::cosim::has_dialect;
use crate::golden::QuantBlock;
use bitvec::prelude::*;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Images {
    pub word_bits: u32,
    /// Per column, its words.
    pub columns: Vec<Vec<BitVec<u8, Lsb0>>>,
}

impl Images {
    pub fn of(p: &GemmParams, rows: &[Vec<QuantBlock>]) -> Images {
        let f = p.format_w;
        let cb = f.code_bits() as usize;
        let word_bits = GemmParams::word_bits(f, p.block_size);
        let columns = (0..p.cols)
            .map(|c| {
                let mut words = Vec::with_capacity(p.weight_words());
                for g in 0..p.groups() {
                    for blk in &rows[g * p.cols + c] {
                        let mut w = bitvec![u8, Lsb0; 0; word_bits as usize];
                        w[..8].store_le(blk.scale as u8);
                        let mut at = 8;
                        if has_dialect(f) {
                            w[8..12].store_le(blk.dialect.unwrap_or(0));
                            at = 12;
                        }
                        for &code in &blk.codes {
                            w[at..at + cb].store_le(code);
                            at += cb;
                        }
                        words.push(w);
                    }
                }
                words
            })
            .collect();
        Images { word_bits, columns }
    }

    /// A word as hex digits, most significant first (what `$readmemh` and Verilog literals take).
    pub fn word_hex(&self, c: usize, a: usize) -> String {
        let w = &self.columns[c][a];
        let digits = self.word_bits.div_ceil(4) as usize;
        (0..digits)
            .rev()
            .map(|d| {
                let lo = d * 4;
                let hi = (lo + 4).min(w.len());
                let v: u8 = w[lo..hi].load_le();
                char::from_digit(u32::from(v), 16).expect("a nibble")
            })
            .collect()
    }

    /// Column `c` for `$readmemh`: one word a line.
    pub fn hex(&self, c: usize) -> String {
        (0..self.columns[c].len())
            .map(|a| self.word_hex(c, a) + "\n")
            .collect()
    }

    /// Column `c` raw: each word little-endian in whole bytes (the high byte zero-padded).
    pub fn bin(&self, c: usize) -> Vec<u8> {
        self.columns[c]
            .iter()
            .flat_map(|w| w.as_raw_slice().iter().copied())
            .collect()
    }

    pub fn word_bytes(&self) -> usize {
        self.word_bits.div_ceil(8) as usize
    }

    /// SHA-256 over every column's hex image.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for c in 0..self.columns.len() {
            h.update(self.hex(c).as_bytes());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The files `blockrtl pack` writes for a checked tile into `dir`: per column its `$readmemh`
/// image and its raw binary, and a JSON file describing the layout. Nothing is replaced unless
/// `force`; returns the paths written.
pub fn write(
    tile: &super::GemmChecked,
    dir: &std::path::Path,
    force: bool,
) -> crate::error::Result<Vec<std::path::PathBuf>> {
    use crate::emit::write::{check_writable_new, write_atomic};
    use crate::units::unit::Hardware;
    let p = tile.params();
    let img = tile.images();
    let top = tile.top()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| crate::error::Error::input(format!("cannot create {}: {e}", dir.display())))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut columns = Vec::new();
    for c in 0..p.cols {
        let hex = format!("{top}_wram{c}.hex");
        let bin = format!("{top}_wram{c}.bin");
        files.push((hex.clone(), img.hex(c).into_bytes()));
        files.push((bin.clone(), img.bin(c)));
        columns.push(serde_json::json!({
            "column": c,
            "module": format!("{top}_wram{c}"),
            "hex": hex,
            "bin": bin,
            "words": img.columns[c].len(),
        }));
    }
    let f = p.format_w;
    let cb = f.code_bits();
    let codes_at = if has_dialect(f) { 12 } else { 8 };
    let mut fields =
        vec![serde_json::json!({"name": "scale", "lsb": 0, "bits": 8, "format": "E8M0"})];
    if has_dialect(f) {
        fields.push(serde_json::json!({"name": "dialect", "lsb": 8, "bits": 4}));
    }
    fields.push(serde_json::json!({
        "name": "codes", "lsb": codes_at, "bits": cb * p.block_size as u32,
        "element_bits": cb, "elements": p.block_size, "order": "element 0 lowest"
    }));
    let manifest = serde_json::json!({
        "tool": format!("blockrtl {}", env!("CARGO_PKG_VERSION")),
        "top": top,
        "format": f.to_string(),
        "block_size": p.block_size,
        "in_features": p.in_features,
        "out_features": p.out_features,
        "cols": p.cols,
        "source": tile.weights().label,
        "sha256": tile.weights().digest,
        "word_bits": img.word_bits,
        "word_bytes": img.word_bytes(),
        "address": format!("column c, word g * {} + b: block b (elements b*{}..) of weight row g * {} + c", p.blocks(), p.block_size, p.cols),
        "hex": "one word a line, most significant digit first ($readmemh)",
        "bin": "each word little-endian in word_bytes bytes, the top byte zero-padded",
        "fields": fields,
        "columns": columns,
        "load": "through the write port (w_we_i, w_col_i = c, w_addr_i = word, w_data_i), or as initial memory contents",
    });
    let mut text = serde_json::to_string_pretty(&manifest).expect("json");
    text.push('\n');
    files.push((format!("{top}_weights.json"), text.into_bytes()));
    let paths: Vec<std::path::PathBuf> = files.iter().map(|(n, _)| dir.join(n)).collect();
    for path in &paths {
        check_writable_new(path, force)?;
    }
    for ((_, bytes), path) in files.iter().zip(&paths) {
        write_atomic(path, bytes)?;
    }
    Ok(paths)
}
