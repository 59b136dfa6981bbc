//! The dialect selector (two-stage or mse) as the BlockDialect units place it: its view-model,
//! ROMs and modules. Tables are computed here from the formatbook data (not from
//! the golden model's code), so co-simulation checks two independent derivations.

use crate::emit::bits_for;
use crate::emit::tree::{Node, SumNode, reduce, sum_tree};
use crate::error::Result;
use crate::floor::finish;
use crate::format::Formatbook;
use crate::format::formatbook::DIALECT_VALUES;
use crate::golden::Selector;
use serde::Serialize;

pub fn selector_tag(s: Selector) -> &'static str {
    match s {
        Selector::Mse => "mse",
        Selector::TwoStage => "ts",
    }
}

/// Nearest value of a dialect to magnitude code m (F fraction bits), ties to the larger value:
/// a scan over the values, written independently of the golden model's midpoint count.
fn nearest_value(values: &[u8; DIALECT_VALUES], m: u64, frac: u32) -> u64 {
    // Compare distances in units of 2^-(F+1): |2M - v * 2^F|.
    let mut best = u64::from(values[0]);
    for &v in values {
        let v = u64::from(v);
        if (2 * m).abs_diff(v << frac) <= (2 * m).abs_diff(best << frac) {
            best = v;
        }
    }
    best
}

#[derive(Debug, Clone, Serialize)]
pub struct RomEntry {
    pub m: u64,
    pub err: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DialectRom {
    pub id: usize,
    pub table: Vec<RomEntry>,
    /// This dialect's slice of a packed per-dialect sum bus.
    pub hi: u32,
    pub lo: u32,
    pub thi: u32,
    pub tlo: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairRomEntry {
    pub t: u64,
    pub p: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairConsts {
    pub index: usize,
    pub lo0: u64,
    pub hi0: u64,
    pub id0: usize,
    pub lo1: u64,
    pub hi1: u64,
    pub id1: usize,
}

/// Everything `bdq_sel.v` places.
#[derive(Debug, Clone)]
pub struct SelView {
    pub two_stage: bool,
    pub book: String,
    pub lanes: usize,
    pub mw: u32,
    pub m_msb: u32,
    pub bus_msb: u32,
    pub q_w: u32,
    pub q_msb: u32,
    pub id_w: u32,
    pub id_msb: u32,
    // two-stage
    pub pair_w: u32,
    pub pair_msb: u32,
    pub pair_rom: Vec<PairRomEntry>,
    pub pairs: Vec<PairConsts>,
    pub max_tree: Vec<Node>,
    pub max_root: String,
    pub t_hi: u32,
    pub t_lo: u32,
    pub t_lo_msb: u32,
    pub count_tree: Vec<SumNode>,
    pub count_root: String,
    pub cnt_w: u32,
    pub cnt_msb: u32,
    // mse
    pub dialects: Vec<DialectRom>,
    pub e_w: u32,
    pub e_msb: u32,
    pub sum_tree: Vec<SumNode>,
    pub sum_root: String,
    /// Width of one dialect's sum over the lanes, and of the packed bus of all of them.
    pub sum_w: u32,
    pub errs_msb: u32,
    pub tots_msb: u32,
    pub tot_msb: u32,
    pub argmin_tree: Vec<Node>,
    pub argmin_root: String,
}

impl SelView {
    pub fn new(book: &Formatbook, selector: Selector, frac: u32, lanes: usize) -> Result<SelView> {
        let mw = frac + 3;
        let q_w = mw + 2;
        let id_w = book.id_bits();
        let leaves: Vec<String> = (0..lanes).map(|i| format!("g_lane[{i}].leaf")).collect();
        let mut v = SelView {
            two_stage: selector == Selector::TwoStage,
            book: book.name.clone(),
            lanes,
            mw,
            m_msb: mw - 1,
            bus_msb: lanes as u32 * mw - 1,
            q_w,
            q_msb: q_w - 1,
            id_w,
            id_msb: id_w - 1,
            pair_w: 1,
            pair_msb: 0,
            pair_rom: Vec::new(),
            pairs: Vec::new(),
            max_tree: Vec::new(),
            max_root: String::new(),
            t_hi: frac + 2,
            t_lo: frac - 1,
            t_lo_msb: frac.saturating_sub(2),
            count_tree: Vec::new(),
            count_root: String::new(),
            cnt_w: 1,
            cnt_msb: 0,
            dialects: Vec::new(),
            e_w: 1,
            e_msb: 0,
            sum_tree: Vec::new(),
            sum_root: String::new(),
            sum_w: 1,
            errs_msb: 0,
            tots_msb: 0,
            tot_msb: 0,
            argmin_tree: Vec::new(),
            argmin_root: String::new(),
        };
        match selector {
            Selector::TwoStage => {
                let pairs = book.pairs()?;
                v.pair_w = bits_for(pairs.len().saturating_sub(1) as u64);
                v.pair_msb = v.pair_w - 1;
                // Stage 1: the smallest pair maximum at or above t, else the largest maximum.
                for t in 0..16u64 {
                    let above = pairs
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| u64::from(p.max) >= t)
                        .min_by_key(|(_, p)| p.max);
                    let p = match above {
                        Some((i, _)) => i,
                        None => pairs
                            .iter()
                            .enumerate()
                            .max_by_key(|(_, p)| p.max)
                            .map(|(i, _)| i)
                            .unwrap_or(0),
                    };
                    v.pair_rom.push(PairRomEntry { t, p });
                }
                v.pairs = pairs
                    .iter()
                    .enumerate()
                    .map(|(index, p)| PairConsts {
                        index,
                        lo0: u64::from(p.range2[0].0) << frac,
                        hi0: u64::from(p.range2[0].1) << frac,
                        id0: p.ids[0],
                        lo1: u64::from(p.range2[1].0) << frac,
                        hi1: u64::from(p.range2[1].1) << frac,
                        id1: p.ids[1],
                    })
                    .collect();
                let (max_tree, max_root) = reduce(leaves.clone(), "mmax");
                v.max_tree = max_tree;
                v.max_root = max_root;
                let (count_tree, count_root, cnt_w) = sum_tree(leaves, 1, "cnt");
                v.count_tree = count_tree;
                v.count_root = count_root;
                v.cnt_w = cnt_w;
                v.cnt_msb = cnt_w - 1;
            }
            Selector::Mse => {
                let m_limit = (8u64 << frac) - 1;
                v.dialects = book
                    .dialects
                    .iter()
                    .enumerate()
                    .map(|(id, values)| DialectRom {
                        id,
                        hi: 0,
                        lo: 0,
                        thi: 0,
                        tlo: 0,
                        table: (0..=m_limit)
                            .map(|m| {
                                let d = (2 * m).abs_diff(nearest_value(values, m, frac) << frac);
                                RomEntry { m, err: d * d }
                            })
                            .collect(),
                    })
                    .collect();
                let max_err = v
                    .dialects
                    .iter()
                    .flat_map(|d| d.table.iter().map(|e| e.err))
                    .max()
                    .unwrap_or(0);
                v.e_w = bits_for(max_err);
                v.e_msb = v.e_w - 1;
                let (sum_tree, sum_root, sum_w) = sum_tree(leaves, v.e_w, "sum");
                v.sum_tree = sum_tree;
                v.sum_root = sum_root;
                v.sum_w = sum_w;
                v.tot_msb = sum_w - 1;
                v.errs_msb = book.len() as u32 * sum_w - 1;
                v.tots_msb = v.errs_msb;
                for d in &mut v.dialects {
                    d.lo = d.id as u32 * sum_w;
                    d.hi = d.lo + sum_w - 1;
                    d.tlo = d.lo;
                    d.thi = d.hi;
                }
                let (argmin_tree, argmin_root) =
                    reduce((0..book.len()).map(|d| format!("tot{d}")).collect(), "amin");
                v.argmin_tree = argmin_tree;
                v.argmin_root = argmin_root;
            }
        }
        Ok(v)
    }
}

/// Render the selector's parts, dependencies first: two-stage `_pair` and `_stats`, mse `_stats`
/// (over `stats.lanes` magnitudes) and `_amin` (over totals as wide as `amin`'s), and, when
/// `with_sel`, the whole-block selector `_sel` made of them.
pub fn selector_files(
    banner: &str,
    prefix: &str,
    stats: &SelView,
    amin: &SelView,
    with_sel: bool,
) -> Vec<crate::emit::design::GenFile> {
    use askama::Template;
    let name = |x: &str| format!("{prefix}_{x}");
    let file = |n: String, text: String| crate::emit::design::GenFile::rtl(format!("{n}.v"), text);
    let s = stats;
    let mut v = Vec::new();
    if s.two_stage {
        v.push(file(
            name("pair"),
            finish(
                PairTemplate {
                    banner,
                    name: &name("pair"),
                    s,
                }
                .render(),
            ),
        ));
    }
    v.push(file(
        name("stats"),
        finish(
            StatsTemplate {
                banner,
                name: &name("stats"),
                s,
            }
            .render(),
        ),
    ));
    if !s.two_stage {
        v.push(file(
            name("amin"),
            finish(
                AminTemplate {
                    banner,
                    name: &name("amin"),
                    s: amin,
                }
                .render(),
            ),
        ));
    }
    if with_sel {
        v.push(file(
            name("sel"),
            finish(
                SelTemplate {
                    banner,
                    name: &name("sel"),
                    s,
                    pair_name: name("pair"),
                    stats_name: name("stats"),
                    amin_name: name("amin"),
                }
                .render(),
            ),
        ));
    }
    v
}

#[derive(askama::Template)]
#[template(path = "rtl/bdq_pair.v", escape = "none")]
pub(crate) struct PairTemplate<'a> {
    pub banner: &'a str,
    pub name: &'a str,
    pub s: &'a SelView,
}

#[derive(askama::Template)]
#[template(path = "rtl/bdq_stats.v", escape = "none")]
pub(crate) struct StatsTemplate<'a> {
    pub banner: &'a str,
    pub name: &'a str,
    pub s: &'a SelView,
}

#[derive(askama::Template)]
#[template(path = "rtl/bdq_amin.v", escape = "none")]
pub(crate) struct AminTemplate<'a> {
    pub banner: &'a str,
    pub name: &'a str,
    pub s: &'a SelView,
}

#[derive(askama::Template)]
#[template(path = "rtl/bdq_sel.v", escape = "none")]
pub(crate) struct SelTemplate<'a> {
    pub banner: &'a str,
    pub name: &'a str,
    pub s: &'a SelView,
    pub pair_name: String,
    pub stats_name: String,
    pub amin_name: String,
}
