//! The dot unit in co-simulation: its checked form with both operands' golden quantizers,
//! stimulus that exercises both formats, and the golden results.

use super::*;
use crate::units::{Checked, Unit};

/// Checked dot settings with both operands' golden quantizers, built once. In co-simulation
/// a "block" is a group of `dot_length` block pairs (one result).
pub struct DotChecked {
    pub params: DotParams,
    fa: BlockFormat,
    fb: BlockFormat,
    qa: Quantizer,
    qb: Quantizer,
    /// The formatbook, loaded once (stimulus aims at it every block).
    book: Option<std::sync::Arc<crate::format::Formatbook>>,
}

/// The golden quantizer of one operand (DialectFP4 weights pick their dialect by least error).
fn quantizer(f: OperandFormat, p: &DotParams) -> Result<Quantizer> {
    Ok(Quantizer::weights(f, p.formatbook.get()?)?)
}

/// Values per block pair in the stimulus: scale, dialect and k codes for each side.
fn pair_len(k: usize) -> usize {
    2 * (k + 2)
}

impl Unit for DotParams {
    const NAME: &'static str = "dot";
    const NOTED: &'static [&'static str] = &["formatbook"];
    type Checked = DotChecked;

    fn resolved(&self) -> Self {
        DotParams {
            lanes: Some(self.lanes()),
            ..self.clone()
        }
    }

    fn states(&self, field: &str) -> bool {
        match field {
            "dot_length" => self.accumulate != AccumulateKind::None,
            "acc_width" | "acc_lsb" => self.accumulate == AccumulateKind::Fixed,
            "multiplier" => self.int8_pair(),
            _ => true,
        }
    }

    fn check(&self) -> Result<DotChecked> {
        self.validate()?;
        Ok(DotChecked {
            fa: self.block_format(self.format_a)?,
            fb: self.block_format(self.format_b)?,
            qa: quantizer(self.format_a, self)?,
            qb: quantizer(self.format_b, self)?,
            book: self.formatbook.get().ok(),
            params: self.clone(),
        })
    }
}

/// Storage one stimulus call reuses for every operand it quantizes.
struct SideScratch {
    raw: Vec<u32>,
    q: QuantBlock,
}

impl DotChecked {
    /// Append one operand block (scale, dialect, k codes) of `dist` to `out`.
    #[allow(clippy::too_many_arguments)]
    fn side(
        &self,
        f: OperandFormat,
        q: &Quantizer,
        dist: crate::stimulus::Dist,
        rng: &mut rand_pcg::Pcg64,
        mode: u32,
        scratch: &mut SideScratch,
        out: &mut Vec<u32>,
    ) {
        use crate::stimulus::Dist;
        let k = self.params.block_size;
        let f32in = crate::format::InputFormat::F32;
        let ndialects = self.book.as_ref().map_or(1, |b| b.len());
        let max_code = match f {
            OperandFormat::Mx(ElementFormat::Int8) => 0x7f,
            OperandFormat::Mx(e) => e.minifloat().map_or(0, |m| m.max_mag_code()),
            OperandFormat::Dialect | OperandFormat::Nvfp4 => 7,
        };
        let sign = 1u32 << (f.code_bits() - 1);
        let neg = |c: u32| match f {
            OperandFormat::Mx(ElementFormat::Int8) => (c as u8).wrapping_neg() as u32,
            _ => c | sign,
        };
        // NVFP4 scales are UE4M3 (NaN 0x7F, or any code with the sign bit set); the others E8M0.
        let nv = f == OperandFormat::Nvfp4;
        let (nan_scale, max_scale) = if nv { (0x7f, 0x7e) } else { (0xff, 0xfe) };
        let at = out.len();
        let random_block = |rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>| {
            let scale = match rng.random_range(0..64u32) {
                0 => nan_scale,
                1 if nv => rng.random_range(0x80..=0xffu32),
                _ => rng.random_range(0..=max_scale),
            };
            out.push(scale);
            let dialect = (f == OperandFormat::Dialect).then(|| rng.random_range(0..ndialects));
            out.push(dialect.unwrap_or(0) as u32);
            out.extend((0..k).map(|_| rng.random_range(0..(1u32 << f.code_bits()))));
        };
        match dist {
            Dist::UniformBits => random_block(rng, out),
            Dist::Edge => {
                random_block(rng, out);
                out[at] = if nv {
                    rng.random_range(0x30..=0x48u32)
                } else {
                    rng.random_range(100..=154u32)
                };
                let codes = &mut out[at + 2..];
                match mode % 6 {
                    // Largest magnitudes on every lane: the widest sums.
                    0 => codes.iter_mut().for_each(|c| *c = max_code),
                    // All negative maxima.
                    1 => codes.iter_mut().for_each(|c| *c = neg(max_code)),
                    // Alternating signs: cancellation through the adder tree.
                    2 => codes
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, c)| *c = if i % 2 == 0 { max_code } else { neg(max_code) }),
                    // A NaN scale.
                    3 => out[at] = nan_scale,
                    // A zero block (all +0 codes, smallest scale).
                    4 => {
                        codes.iter_mut().for_each(|c| *c = 0);
                        out[at] = 0;
                    }
                    // The extreme scales.
                    _ => out[at] = if rng.random::<bool>() { max_scale } else { 0 },
                }
            }
            _ => {
                // Dialect operands aim at their own book, MX operands at DialectFP4's grids.
                let book = match f {
                    OperandFormat::Dialect => self.book.as_deref().expect("validated"),
                    OperandFormat::Mx(_) | OperandFormat::Nvfp4 => {
                        crate::format::Formatbook::builtin()
                    }
                };
                scratch.raw.clear();
                crate::stimulus::block_into(dist, f32in, k, book, rng, &mut scratch.raw);
                // An NVFP4 block quantized as a tensor of its own: its scale spans UE4M3.
                q.for_tensor(&scratch.raw)
                    .quantize_into(&scratch.raw, &mut scratch.q);
                out.push(scratch.q.scale);
                out.push(u32::from(scratch.q.dialect.unwrap_or(0)));
                out.extend(&scratch.q.codes);
            }
        }
    }
}

impl Checked for DotChecked {
    fn hardware(&self) -> &dyn Hardware {
        &self.params
    }

    fn stimulus_len(&self) -> usize {
        self.params.group() * pair_len(self.params.block_size)
    }

    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        let k = self.params.block_size;
        let mut scratch = SideScratch {
            raw: Vec::with_capacity(k),
            q: QuantBlock::nan(0, 0),
        };
        for i in 0..self.params.group() {
            // Now and then the previous pair again with A negated: exact cancellation in the
            // FP32 accumulation.
            if i > 0 && rng.random_range(0..8u32) == 0 {
                let prev = out.len() - pair_len(k);
                let sign = 1u32 << (self.params.format_a.code_bits() - 1);
                out.extend_from_within(prev..prev + 2);
                for j in prev + 2..prev + k + 2 {
                    let c = out[j];
                    out.push(match self.params.format_a {
                        OperandFormat::Mx(ElementFormat::Int8) => (c as u8).wrapping_neg() as u32,
                        _ => c ^ sign,
                    });
                }
                out.extend_from_within(prev + k + 2..prev + pair_len(k));
                continue;
            }
            let mode: u32 = rng.random_range(0..36);
            let (fa, fb) = (self.params.format_a, self.params.format_b);
            self.side(fa, &self.qa, dist, rng, mode, &mut scratch, out);
            self.side(fb, &self.qb, dist, rng, mode / 6, &mut scratch, out);
        }
    }

    fn input_beats(&self, layout: &crate::emit::layout::Layout, stim: &[u32], out: &mut Vec<u8>) {
        let k = self.params.block_size;
        let l = self.params.lanes();
        let (a_dl, b_dl) = (
            self.params.format_a == OperandFormat::Dialect,
            self.params.format_b == OperandFormat::Dialect,
        );
        for pair in stim.chunks(pair_len(k)) {
            let (a, b) = pair.split_at(k + 2);
            for at in 0..k / l {
                let mut beat = layout.beat(out);
                for (side, dl, [scale, dialect, codes]) in
                    [(a, a_dl, OPERAND_PORTS[0]), (b, b_dl, OPERAND_PORTS[1])]
                {
                    beat.set(scale, side[0]);
                    if dl {
                        beat.set(dialect, side[1]);
                    }
                    let values = &side[2 + at * l..2 + (at + 1) * l];
                    beat.put(codes, values.iter().map(|&c| i128::from(c)));
                }
            }
        }
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let k = self.params.block_size;
        let block = |s: &[u32], f: OperandFormat| QuantBlock {
            scale: s[0],
            dialect: (f == OperandFormat::Dialect).then_some(s[1] as u8),
            codes: s[2..].to_vec(),
            nan: false,
            saturated: 0,
        };
        let (mut av, mut bv) = (Vec::new(), Vec::new());
        for pair in stim.chunks(pair_len(k)) {
            let (a, b) = pair.split_at(k + 2);
            av.push(block(a, self.params.format_a));
            bv.push(block(b, self.params.format_b));
        }
        match self.params.accumulate {
            AccumulateKind::None => {
                let r = dot(&self.fa, &av[0], &self.fb, &bv[0]);
                let mut beat = layout.beat(out);
                beat.set("sum_o", r.sum);
                beat.set("exp_o", r.exp);
                beat.set("nan_o", r.nan);
            }
            AccumulateKind::Fp32 => {
                let v = dot_general(
                    &self.fa,
                    &av,
                    &self.fb,
                    &bv,
                    Accumulation::Fp32 { interleave: 1 },
                );
                let bits = if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() };
                layout.beat(out).set("result_o", bits);
            }
            AccumulateKind::Fixed => {
                let p = &self.params;
                let r = dot_general_fixed(&self.fa, &av, &self.fb, &bv, p.acc_width, p.acc_lsb);
                let mut beat = layout.beat(out);
                beat.set("acc_o", r.value);
                beat.set("sat_o", r.saturated);
                beat.set("nan_o", r.nan);
            }
        }
    }
}
