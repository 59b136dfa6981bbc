//! Element decode: one element code of any block format (MX or DialectFP4) to its sign,
//! significand and shift, as the dot unit and the dequantizer both need it.

use crate::emit::bits_for;
use crate::format::minifloat::Specials;
use crate::format::{ElementFormat, Formatbook, OperandFormat};
use askama::Template;

/// How one operand's elements decode (see `templates/rtl/elem_dec.v`).
#[derive(Debug, Clone)]
pub struct ElementView {
    pub code_w: u32,
    pub code_msb: u32,
    pub sig_w: u32,
    pub sig_msb: u32,
    pub sh_w: u32,
    pub sh_msb: u32,
    pub is_dialect: bool,
    pub is_int: bool,
    pub mbits: u32,
    pub mbits_msb: u32,
    pub ebits_msb: u32,
    pub e_hi: u32,
    pub special_nan_all_ones: bool,
    pub special_ieee: bool,
    /// Largest magnitude of a finite element, in its format's steps.
    pub max_quanta: u64,
    /// Largest shift a finite element uses.
    pub max_shift: u32,
    pub quantum: i32,
}

impl ElementView {
    pub fn of(f: OperandFormat) -> ElementView {
        let base = |code_w: u32, sig_w: u32| ElementView {
            code_w,
            code_msb: code_w - 1,
            sig_w,
            sig_msb: sig_w - 1,
            sh_w: 1,
            sh_msb: 0,
            is_dialect: false,
            is_int: false,
            mbits: 1,
            mbits_msb: 0,
            ebits_msb: 0,
            e_hi: 0,
            special_nan_all_ones: false,
            special_ieee: false,
            max_quanta: 0,
            max_shift: 0,
            quantum: 0,
        };
        match f {
            OperandFormat::Dialect => ElementView {
                is_dialect: true,
                max_quanta: 15,
                quantum: crate::golden::dialect::HALF_UNIT_EXP,
                ..base(4, 4)
            },
            // NVFP4 elements are E2M1; its block scale is decoded elsewhere.
            OperandFormat::Nvfp4 => Self::of(OperandFormat::Mx(ElementFormat::E2m1)),
            OperandFormat::Mx(ElementFormat::Int8) => ElementView {
                is_int: true,
                max_quanta: 128,
                quantum: ElementFormat::Int8.quantum_exp(),
                ..base(8, 8)
            },
            OperandFormat::Mx(e) => {
                let mf = e.minifloat().expect("a minifloat");
                let max_e = mf.max_mag_code() >> mf.mbits;
                let sh_w = bits_for(u64::from(max_e.max(2)));
                ElementView {
                    sh_w,
                    sh_msb: sh_w - 1,
                    mbits: mf.mbits,
                    mbits_msb: mf.mbits - 1,
                    ebits_msb: mf.ebits - 1,
                    e_hi: mf.ebits + mf.mbits - 1,
                    special_nan_all_ones: mf.specials == Specials::NanAllOnes,
                    special_ieee: mf.specials == Specials::Ieee,
                    max_quanta: e.max_quanta(),
                    max_shift: max_e - 1,
                    quantum: e.quantum_exp(),
                    ..base(e.bits(), mf.mbits + 1)
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/elem_dec.v", escape = "none")]
pub struct ElementDecTemplate<'a> {
    pub banner: &'a str,
    pub name: &'a str,
    /// The comment above the module: what the decoded fields are for.
    pub about: Vec<String>,
    pub d: &'a ElementView,
}

/// A block's dialect table: the values of the indices where the book's dialects differ,
/// by id (`rows`), and how the eight 4-bit half-unit values (index 7 in the top bits, which
/// `elem_dec.v` reads as `vals_i`) are put together from them and the indices every dialect
/// shares. The shared ones are constants, so the table and any register after it carry only
/// what varies, and the lanes' index muxes shrink (DialectFP4's dialects share indices 0..4).
pub struct DialectTable {
    pub rows: Vec<DialectRow>,
    /// Bits of the varying values (4 per varying index).
    pub var_w: u32,
    /// Per index, lowest first: its shared value, or its place among the varying ones.
    parts: Vec<Result<u8, u32>>,
}

/// One id's varying values as one bus, the highest index on top.
pub struct DialectRow {
    pub id: usize,
    pub bus: String,
}

impl DialectTable {
    pub fn new(book: &Formatbook) -> DialectTable {
        // An id the book does not have reads as all zeros, so with fewer than 16 dialects an
        // index is shared only when its value is 0.
        let ids_all = book.dialects.len() == 1 << 4;
        let n = crate::format::formatbook::DIALECT_VALUES;
        let mut parts = Vec::with_capacity(n);
        let mut varying = Vec::new();
        for i in 0..n {
            let v = book.dialects[0][i];
            let shared = book.dialects.iter().all(|d| d[i] == v) && (ids_all || v == 0);
            // Index 7 always varies when nothing else does, so the table is never empty.
            if shared && !(i == n - 1 && varying.is_empty()) {
                parts.push(Ok(v));
            } else {
                parts.push(Err(varying.len() as u32));
                varying.push(i);
            }
        }
        let rows = book
            .dialects
            .iter()
            .enumerate()
            .map(|(id, d)| DialectRow {
                id,
                bus: format!(
                    "{{{}}}",
                    varying
                        .iter()
                        .rev()
                        .map(|&i| format!("4'd{}", d[i]))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect();
        DialectTable {
            rows,
            var_w: 4 * varying.len() as u32,
            parts,
        }
    }

    /// The 32-bit values bus from the varying values on `var`.
    pub fn assemble(&self, var: &str) -> String {
        let fields: Vec<String> = self
            .parts
            .iter()
            .rev()
            .map(|p| match p {
                Ok(v) => format!("4'd{v}"),
                Err(k) => format!("{var}[{}:{}]", 4 * k + 3, 4 * k),
            })
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
}
