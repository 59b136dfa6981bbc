//! Unit `bd-selector`: a block's scaled fixed-point magnitudes in, the chosen dialect id out,
//! with either selector, so its cost can be synthesized apart from the quantizer.

use crate::emit::design::{GenFile, Port, module_ports};
use crate::emit::pipeline::{Cut, Stage, chain};
use crate::error::Result;
use crate::floor::checks::{check_frac_bits, validate_blocking};
use crate::floor::selector::{SelView, selector_files, selector_tag};
use crate::floor::{BookRef, finish};
use crate::format::ScaleFormat;
use crate::golden::{BdConfig, BdQuantizer, FracBits, Selector};
use crate::prove::facts::Facts;
use crate::units::unit::{Hardware, Spec};
use askama::Template;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BdSelectorParams {
    #[serde(default = "super::defaults::block_size")]
    pub block_size: usize,
    #[serde(default = "super::defaults::selector")]
    pub selector: Selector,
    #[serde(default = "super::defaults::frac_bits")]
    pub frac_bits: u32,
    #[serde(default = "super::defaults::pipeline")]
    pub pipeline: usize,
    #[serde(default)]
    pub formatbook: BookRef,
}

struct OutStage {
    name: String,
    en: String,
    src: String,
}

#[derive(Template)]
#[template(path = "rtl/bds_top.v", escape = "none")]
struct TopTemplate<'a> {
    banner: &'a str,
    port_decls: String,
    name: &'a str,
    selector: &'a str,
    lanes: usize,
    mw: u32,
    frac: u32,
    bus_msb: u32,
    id_msb: u32,
    id_ext: String,
    sel_name: String,
    pipeline: usize,
    stage_summary: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    cut_in: Cut,
    outs: Vec<OutStage>,
    out_final: String,
}

impl BdSelectorParams {
    pub const UNIT: &'static str = "bd-selector";

    pub fn validate(&self) -> Result<()> {
        validate_blocking(self.block_size, self.block_size, self.pipeline)?;
        check_frac_bits(self.frac_bits)?;
        self.golden().map(|_| ())
    }

    pub fn golden(&self) -> Result<BdQuantizer> {
        Ok(BdQuantizer::new(BdConfig {
            book: self.formatbook.get()?,
            selector: self.selector,
            frac_bits: FracBits::Bits(self.frac_bits),
            scale: ScaleFormat::E8m0,
            flush_subnormals: false,
        })?)
    }

    pub fn top_name(&self) -> Result<String> {
        Ok(format!(
            "bds_{}_k{}_p{}_f{}{}",
            selector_tag(self.selector),
            self.block_size,
            self.pipeline,
            self.frac_bits,
            self.formatbook.name_suffix()?
        ))
    }

    pub fn mag_bits(&self) -> u32 {
        self.frac_bits + 3
    }

    /// The hardware of checked settings (`Unit::check` has validated them).
    fn emit_files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let book = self.formatbook.get()?;
        let sel = SelView::new(&book, self.selector, self.frac_bits, self.block_size)?;
        let sel_name = format!("{top}_sel");
        let p = self.pipeline;
        // One stage registers the result; a second registers the inputs; more go to the output.
        let cut_in_on = p >= 2;
        let out_count = p - usize::from(cut_in_on);
        let (stages, first_en, last_valid) = chain(p, "valid_i", "ready_i");
        let mut names = stages.iter().map(|s| s.name.clone());
        let cut_in = Cut {
            registered: cut_in_on,
            en: if cut_in_on {
                format!("en_{}_w", names.next().expect("a stage"))
            } else {
                String::new()
            },
        };
        let mut outs = Vec::new();
        let mut src = "dialect_w".to_string();
        for name in names.take(out_count) {
            outs.push(OutStage {
                name: name.clone(),
                en: format!("en_{name}_w"),
                src: src.clone(),
            });
            src = format!("dialect_{name}_q");
        }
        let id_w = book.id_bits();
        let view = TopTemplate {
            port_decls: module_ports(&self.ports()),
            banner,
            name: top,
            selector: self.selector.name(),
            lanes: self.block_size,
            mw: self.mag_bits(),
            frac: self.frac_bits,
            bus_msb: self.block_size as u32 * self.mag_bits() - 1,
            id_msb: id_w - 1,
            id_ext: crate::emit::zero_extend("chosen_w", id_w, 4),
            sel_name: sel_name.clone(),
            pipeline: p,
            stage_summary: match (cut_in_on, out_count) {
                (_, 0) => String::new(),
                (true, n) => format!(" (input, {n} at the output)"),
                (false, n) => format!(" ({n} at the output)"),
            },
            stages,
            first_en,
            last_valid,
            cut_in,
            outs,
            out_final: src,
        };
        let mut files = selector_files(banner, top, &sel, &sel, true);
        files.push(GenFile::rtl(format!("{top}.v"), finish(view.render())));
        Ok(files)
    }
}

/// Checked selector settings with the golden selector, built once.
pub struct BdSelectorChecked {
    pub params: BdSelectorParams,
    pub golden: BdQuantizer,
}

impl Hardware for BdSelectorParams {
    fn spec(&self) -> Spec {
        Spec::of(self)
    }

    fn top(&self) -> Result<String> {
        self.top_name()
    }

    fn ports(&self) -> Vec<Port> {
        vec![
            Port::input("mags_i", self.mag_bits(), self.block_size),
            Port::output("dialect_o", 4, 1),
        ]
    }

    fn formal(&self) -> Facts {
        // One block per registered stage. Every 4-bit id names a dialect of a 16-dialect book,
        // so there is no id it could write wrongly.
        Facts::stream(self.pipeline as u32)
    }

    fn latency(&self) -> u32 {
        self.pipeline as u32
    }

    fn beats_per_block(&self) -> usize {
        1
    }

    fn notes(&self) -> Result<Vec<String>> {
        self.formatbook.banner_lines()
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        self.emit_files(top, banner)
    }
}

impl super::Unit for BdSelectorParams {
    const NAME: &'static str = Self::UNIT;
    const NOTED: &'static [&'static str] = &["formatbook"];
    type Checked = BdSelectorChecked;

    fn check(&self) -> Result<BdSelectorChecked> {
        self.validate()?;
        Ok(BdSelectorChecked {
            params: self.clone(),
            golden: self.golden()?,
        })
    }
}

impl super::Checked for BdSelectorChecked {
    fn hardware(&self) -> &dyn Hardware {
        &self.params
    }

    fn stimulus_len(&self) -> usize {
        self.params.block_size
    }

    /// Magnitudes as the quantizer would make them from a block of `dist` (so the block max is
    /// in [4, 8)), except `uniform-bits`, which draws every magnitude code uniformly.
    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        use rand::RngExt;
        let k = self.params.block_size;
        let limit = (8u32 << self.params.frac_bits) - 1;
        if dist == crate::stimulus::Dist::UniformBits {
            out.extend((0..k).map(|_| rng.random_range(0..=limit)));
            return;
        }
        let f32in = crate::format::InputFormat::F32;
        let raw = crate::stimulus::block(dist, f32in, k, &self.golden.config.book, rng);
        let amax = raw
            .iter()
            .map(|&b| b & 0x7fff_ffff)
            .filter(|&m| m < 0x7f80_0000)
            .max()
            .unwrap_or(0);
        let e = if amax == 0 {
            -127
        } else {
            self.golden.shared_exp(amax)
        };
        out.extend(raw.iter().map(|&b| {
            if b & 0x7fff_ffff >= 0x7f80_0000 {
                0
            } else {
                self.golden.scaled_magnitude(b, e) as u32
            }
        }));
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let ms: Vec<u64> = stim.iter().map(|&m| u64::from(m)).collect();
        layout.beat(out).set("dialect_o", self.golden.select(&ms));
    }
}
