//! The dialect selector (two-stage or mse) as the BlockDialect units place it: its view-model,
//! ROMs and modules. Tables are computed here from the formatbook data (not from
//! the golden model's code), so co-simulation checks two independent derivations.

use crate::emit::bits_for;
use crate::emit::pipeline::Cut;
use crate::emit::tree::{Node, SumNode, reduce, sum_tree};
use crate::error::Result;
use crate::floor::bundle::Bundle;
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

/// A t where stage 1's pair changes: lane flags `[t_i >= c]`, and `any`, their OR over the lanes.
#[derive(Debug, Clone, Serialize)]
pub struct SelFlag {
    pub k: usize,
    pub c: u64,
    pub any: String,
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
    /// Stage 1 as flags at the pair ROM's change points (ascending), packed `[i*NF +: NF]` per
    /// lane in `ge_all_w`; `lane_flags` is one lane's concatenation.
    pub flags: Vec<SelFlag>,
    pub flags_w: u32,
    pub flags_bus_msb: u32,
    pub lane_flags: String,
    /// Registers inside the whole-block selector (a quantizer's pipeline): enables
    /// `en_i[0..regs)` in pipeline order: after stage 1, then the count tree's levels.
    pub regs: usize,
    pub pair_cut: Cut,
    /// The count tree's registers (inside `_stats`, its own `en_i`), and what `_sel` connects
    /// to that port.
    pub stats_regs: usize,
    pub stats_en: String,
    /// Stage 1's results as `_sel` registers them: the members' ranges and their ids.
    pub range: Bundle,
    pub ids: Bundle,
    /// Member ids keeping pace with the count tree's registers: (register, enable, source).
    pub id_delay: Vec<(String, String, String)>,
    pub ids_src: String,
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
            flags: Vec::new(),
            flags_w: 0,
            flags_bus_msb: 0,
            lane_flags: String::new(),
            regs: 0,
            pair_cut: Cut::default(),
            stats_regs: 0,
            stats_en: String::new(),
            range: Bundle::new(&[("lo0", q_w), ("hi0", q_w), ("lo1", q_w), ("hi1", q_w)]),
            ids: Bundle::new(&[("id1", id_w), ("id0", id_w)]),
            id_delay: Vec::new(),
            ids_src: "ids_w".into(),
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
                let nf = v.set_flags();
                v.flags_w = nf as u32;
                v.flags_bus_msb = (lanes * nf).max(1) as u32 - 1;
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

impl SelView {
    /// The pair ROM's change points as flags (see `SelFlag`); returns their number.
    fn set_flags(&mut self) -> usize {
        let changes: Vec<u64> = self
            .pair_rom
            .windows(2)
            .filter(|w| w[0].p != w[1].p)
            .map(|w| w[1].t)
            .collect();
        let nf = changes.len();
        self.flags = changes
            .iter()
            .enumerate()
            .map(|(k, &c)| SelFlag {
                k,
                c,
                any: (0..self.lanes)
                    .map(|i| format!("ge_all_w[{}]", i * nf + k))
                    .collect::<Vec<_>>()
                    .join(" | "),
            })
            .collect();
        let lane: Vec<String> = changes
            .iter()
            .rev()
            .map(|c| format!("(t_w >= 4'd{c})"))
            .collect();
        self.lane_flags = format!("{{{}}}", lane.join(", "));
        nf
    }

    /// Registers inside the two-stage whole-block selector: after stage 1 (`pair`) and
    /// `count_cuts` in the count tree; `en` names the enables in pipeline order.
    pub fn pipelined(mut self, pair: bool, count_cuts: usize) -> SelView {
        assert!(
            self.two_stage,
            "only the two-stage selector has inner registers"
        );
        let levels = crate::emit::tree::levels(self.lanes);
        let count_cuts = count_cuts.min(levels);
        let mut next = 0;
        let mut take = |on: bool| {
            let en = if on {
                next += 1;
                format!("en_i[{}]", next - 1)
            } else {
                String::new()
            };
            Cut { registered: on, en }
        };
        self.pair_cut = take(pair);
        let at = crate::emit::tree::cut_levels(levels, count_cuts);
        let outer: Vec<Cut> = at.iter().map(|_| take(true)).collect();
        self.regs = next;
        self.stats_regs = outer.len();
        if !outer.is_empty() {
            let first = usize::from(pair);
            self.stats_en = format!("en_i[{}:{first}]", first + outer.len() - 1);
        }
        let inner: Vec<Cut> = (0..outer.len())
            .map(|j| Cut {
                registered: true,
                en: format!("en_i[{j}]"),
            })
            .collect();
        crate::emit::tree::register_levels(&mut self.count_tree, &at, &inner);
        let (delay, src) =
            crate::emit::pipeline::delay_chain(&outer, |j| format!("ids_c{}_q", j + 1), "ids_w");
        self.id_delay = delay;
        self.ids_src = src;
        self
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `bdq_sel.v` computes from the flags: the largest change point at or below t, or 0.
    fn represented(v: &SelView, t: u64) -> u64 {
        v.flags
            .iter()
            .map(|f| f.c)
            .filter(|&c| c <= t)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn stage1_flags_give_every_t_its_pair() {
        let book = Formatbook::dialectfp4();
        for frac in 1..=6 {
            let v = SelView::new(&book, Selector::TwoStage, frac, 32).unwrap();
            // DialectFP4's eight pairs have maxima 8..15 half-units: one change per t above 8.
            let cs: Vec<u64> = v.flags.iter().map(|f| f.c).collect();
            assert_eq!(cs, (9..16).collect::<Vec<u64>>());
            for t in 0..16u64 {
                let rep = represented(&v, t);
                assert_eq!(
                    v.pair_rom[rep as usize].p, v.pair_rom[t as usize].p,
                    "t {t}"
                );
            }
        }
        // A book of one pair needs no flag.
        let one = Formatbook {
            dialects: book.dialects[..2].to_vec(),
            ..book.clone()
        };
        let v = SelView::new(&one, Selector::TwoStage, 2, 16).unwrap();
        assert!(v.flags.is_empty() && v.pair_rom.iter().all(|e| e.p == 0));
    }

    #[test]
    fn inner_registers_number_their_enables_in_pipeline_order() {
        let book = Formatbook::dialectfp4();
        let v = SelView::new(&book, Selector::TwoStage, 2, 32)
            .unwrap()
            .pipelined(true, 2);
        assert_eq!(v.regs, 3);
        assert_eq!(v.pair_cut.en, "en_i[0]");
        assert_eq!(v.stats_regs, 2);
        assert_eq!(v.stats_en, "en_i[2:1]");
        // The count tree's levels carry the stats module's own enables, the ids the selector's.
        let ens: Vec<&str> = v
            .count_tree
            .iter()
            .filter(|n| !n.en.is_empty())
            .map(|n| n.en.as_str())
            .collect();
        assert!(
            ens.contains(&"en_i[0]") && ens.contains(&"en_i[1]"),
            "{ens:?}"
        );
        let id_ens: Vec<&str> = v.id_delay.iter().map(|d| d.1.as_str()).collect();
        assert_eq!(id_ens, ["en_i[1]", "en_i[2]"]);
        assert_eq!(v.ids_src, "ids_c2_q");
        let plain = SelView::new(&book, Selector::TwoStage, 2, 32)
            .unwrap()
            .pipelined(false, 0);
        assert_eq!((plain.regs, plain.stats_regs), (0, 0));
        assert!(plain.stats_en.is_empty() && plain.id_delay.is_empty());
    }
}
