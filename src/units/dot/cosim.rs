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
            params: self.clone(),
        })
    }
}

impl DotChecked {
    fn side(
        &self,
        f: OperandFormat,
        q: &Quantizer,
        dist: crate::stimulus::Dist,
        rng: &mut rand_pcg::Pcg64,
        mode: u32,
    ) -> QuantBlock {
        use crate::stimulus::Dist;
        let k = self.params.block_size;
        let f32in = crate::format::InputFormat::F32;
        let ndialects = self.params.formatbook.get().map(|b| b.len()).unwrap_or(1);
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
        let random_block = |rng: &mut rand_pcg::Pcg64| QuantBlock {
            scale: match rng.random_range(0..64u32) {
                0 => nan_scale,
                1 if nv => rng.random_range(0x80..=0xffu32),
                _ => rng.random_range(0..=max_scale),
            },
            dialect: (f == OperandFormat::Dialect).then(|| rng.random_range(0..ndialects) as u8),
            codes: (0..k)
                .map(|_| rng.random_range(0..(1u32 << f.code_bits())))
                .collect(),
            nan: false,
            saturated: 0,
        };
        match dist {
            Dist::UniformBits => random_block(rng),
            Dist::Edge => {
                let mut b = random_block(rng);
                b.scale = if nv {
                    rng.random_range(0x30..=0x48u32)
                } else {
                    rng.random_range(100..=154u32)
                };
                match mode % 6 {
                    // Largest magnitudes on every lane: the widest sums.
                    0 => b.codes.iter_mut().for_each(|c| *c = max_code),
                    // All negative maxima.
                    1 => b.codes.iter_mut().for_each(|c| *c = neg(max_code)),
                    // Alternating signs: cancellation through the adder tree.
                    2 => {
                        b.codes.iter_mut().enumerate().for_each(|(i, c)| {
                            *c = if i % 2 == 0 { max_code } else { neg(max_code) }
                        })
                    }
                    // A NaN scale.
                    3 => b.scale = nan_scale,
                    // A zero block (all +0 codes, smallest scale).
                    4 => {
                        b.scale = 0;
                        b.codes.iter_mut().for_each(|c| *c = 0);
                    }
                    // The extreme scales.
                    _ => b.scale = if rng.random::<bool>() { max_scale } else { 0 },
                }
                b
            }
            _ => {
                // Dialect operands aim at their own book, MX operands at DialectFP4's grids.
                let own;
                let book = match f {
                    OperandFormat::Dialect => {
                        own = self.params.formatbook.get().expect("validated");
                        &*own
                    }
                    OperandFormat::Mx(_) | OperandFormat::Nvfp4 => {
                        crate::format::Formatbook::builtin()
                    }
                };
                let raw = crate::stimulus::block(dist, f32in, k, book, rng);
                // An NVFP4 block quantized as a tensor of its own: its scale spans UE4M3.
                q.for_tensor(&raw).quantize(&raw)
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
        for i in 0..self.params.group() {
            // Now and then the previous pair again with A negated: exact cancellation in the
            // FP32 accumulation.
            if i > 0 && rng.random_range(0..8u32) == 0 {
                let prev: Vec<u32> = out[out.len() - pair_len(k)..].to_vec();
                let sign = 1u32 << (self.params.format_a.code_bits() - 1);
                out.extend_from_slice(&prev[..2]);
                out.extend(prev[2..k + 2].iter().map(|&c| match self.params.format_a {
                    OperandFormat::Mx(ElementFormat::Int8) => (c as u8).wrapping_neg() as u32,
                    _ => c ^ sign,
                }));
                out.extend_from_slice(&prev[k + 2..]);
                continue;
            }
            let mode: u32 = rng.random_range(0..36);
            let a = self.side(self.params.format_a, &self.qa, dist, rng, mode);
            let b = self.side(self.params.format_b, &self.qb, dist, rng, mode / 6);
            for q in [a, b] {
                out.push(q.scale);
                out.push(u32::from(q.dialect.unwrap_or(0)));
                out.extend(&q.codes);
            }
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
                for (side, dl, name) in [(a, a_dl, "a"), (b, b_dl, "b")] {
                    beat.set(&format!("scale_{name}_i"), side[0]);
                    if dl {
                        beat.set(&format!("dialect_{name}_i"), side[1]);
                    }
                    let codes = &side[2 + at * l..2 + (at + 1) * l];
                    beat.put(
                        &format!("codes_{name}_i"),
                        codes.iter().map(|&c| i128::from(c)),
                    );
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
