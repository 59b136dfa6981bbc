//! Random and edge-case blocks for co-simulation and demo tensors. Values are raw codes of the
//! input format (what the hardware receives); widen them to get the golden model's input.

use crate::format::{Formatbook, InputFormat};
use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dist {
    /// Gaussian elements, block scale 2^U(-20, 20).
    Normal,
    /// Laplace (heavy-tailed) elements, block scale 2^U(-20, 20).
    Laplace,
    /// Gaussian block with one element blown up by 2^U(4, 40).
    Outlier,
    /// Uniformly random bit patterns (every exponent, NaN and Inf included).
    UniformBits,
    /// The numerics.md section 6 edge cases, mixed.
    Edge,
    /// Blocks built on one dialect's grid (DialectFP4, or the unit's formatbook): its values,
    /// the midpoints between them and one FP32 ulp either side, so every dialect and every
    /// rounding and range boundary is hit.
    Dialects,
}

impl Dist {
    pub const ALL: [Dist; 6] = [
        Dist::Normal,
        Dist::Laplace,
        Dist::Outlier,
        Dist::UniformBits,
        Dist::Edge,
        Dist::Dialects,
    ];

    /// The distributions `make-tensor` draws whole tensors from.
    pub const TENSOR: [Dist; 3] = [Dist::Normal, Dist::Laplace, Dist::Outlier];

    pub fn name(self) -> &'static str {
        match self {
            Dist::Normal => "normal",
            Dist::Laplace => "laplace",
            Dist::Outlier => "outlier",
            Dist::UniformBits => "uniform-bits",
            Dist::Edge => "edge",
            Dist::Dialects => "dialects",
        }
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dist {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Dist::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown distribution '{s}' (expected normal, laplace, outlier, uniform-bits, edge or dialects)"))
    }
}

pub fn rng(seed: u64) -> Pcg64 {
    Pcg64::seed_from_u64(seed)
}

fn normal(r: &mut impl Rng) -> f64 {
    r.sample(rand_distr::StandardNormal)
}

/// Standard Laplace: an exponential magnitude with a random sign.
fn laplace(r: &mut impl Rng) -> f64 {
    let m: f64 = r.sample(rand_distr::Exp1);
    if r.random::<bool>() { m } else { -m }
}

fn pow2(e: i32) -> f64 {
    crate::golden::pow2_f64(e)
}

/// Round an f64 to the nearest value of the input format and return its raw code.
pub fn to_raw(x: f64, fmt: InputFormat) -> u32 {
    match fmt {
        InputFormat::F32 => (x as f32).to_bits(),
        InputFormat::Bf16 => u32::from(npyz::half::bf16::from_f64(x).to_bits()),
        InputFormat::F16 => u32::from(npyz::half::f16::from_f64(x).to_bits()),
    }
}

/// One block of k raw input codes drawn from `dist`.
/// `book` is the formatbook `Dist::Dialects` builds its blocks on; other distributions ignore it.
pub fn block(
    dist: Dist,
    fmt: InputFormat,
    k: usize,
    book: &Formatbook,
    r: &mut impl Rng,
) -> Vec<u32> {
    let mut out = Vec::with_capacity(k);
    block_into(dist, fmt, k, book, r, &mut out);
    out
}

/// `block`, appended to `out` (co-simulation's writer makes a block this way every few hundred
/// nanoseconds, so it allocates nothing for the common distributions).
pub fn block_into(
    dist: Dist,
    fmt: InputFormat,
    k: usize,
    book: &Formatbook,
    r: &mut impl Rng,
    out: &mut Vec<u32>,
) {
    // Scales stay inside FP16's range for f16 inputs so blocks are not all Inf or zero.
    let span = if fmt == InputFormat::F16 { 8 } else { 20 };
    let scale = pow2(r.random_range(-span..=span));
    match dist {
        Dist::Normal => out.extend((0..k).map(|_| to_raw(normal(r) * scale, fmt))),
        Dist::Laplace => out.extend((0..k).map(|_| to_raw(laplace(r) * scale, fmt))),
        Dist::Outlier => {
            let mut v: Vec<f64> = (0..k).map(|_| normal(r) * scale).collect();
            let at = r.random_range(0..k);
            v[at] *= pow2(r.random_range(4..=if fmt == InputFormat::F16 { 8 } else { 40 }));
            out.extend(v.into_iter().map(|x| to_raw(x, fmt)));
        }
        Dist::UniformBits => out.extend((0..k).map(|_| r.random::<u32>() & fmt_mask(fmt))),
        Dist::Edge => out.extend(edge_block(fmt, k, r)),
        Dist::Dialects => out.extend(dialect_block(book, fmt, k, r)),
    }
}

/// A block on one random dialect's grid of `book`, at a random scale: the dialect's maximum
/// (so stage 1 names its pair), then values, midpoints and midpoints +-1 FP32 ulp.
pub fn dialect_block(book: &Formatbook, fmt: InputFormat, k: usize, r: &mut impl Rng) -> Vec<u32> {
    let d = &book.dialects[r.random_range(0..book.len())];
    let span = if fmt == InputFormat::F16 { 6 } else { 20 };
    let scale = pow2(r.random_range(-span..=span));
    (0..k)
        .map(|i| {
            let j = if i == 0 { 7 } else { r.random_range(0..8usize) };
            let v = f64::from(d[j]) / 2.0;
            let x = match r.random_range(0..4u32) {
                0 | 1 => v,
                _ if j == 7 => v,
                2 => (v + f64::from(d[j + 1]) / 2.0) / 2.0,
                _ => {
                    let mid = ((v + f64::from(d[j + 1]) / 2.0) / 2.0) as f32;
                    let step: i32 = if r.random::<bool>() { 1 } else { -1 };
                    f64::from(f32::from_bits((mid.to_bits() as i32 + step) as u32))
                }
            };
            let signed = if r.random::<bool>() { x } else { -x };
            to_raw(signed * scale, fmt)
        })
        .collect()
}

/// One block for the NVFP4 quantizer: k raw input codes of `dist`, then a tensor scale (FP32
/// bits): usually the block's own default (as if it were the whole tensor), or that times
/// 2^U(-12, 12), a random positive finite pattern, an edge, or any 32 bits (negative, NaN and
/// Inf too). `Dist::Dialects` builds the block on the NVFP4 grid instead (`nvfp4_grid_block`).
pub fn nvfp4_block(dist: Dist, fmt: InputFormat, k: usize, r: &mut impl Rng, out: &mut Vec<u32>) {
    use crate::golden::nvfp4::finite_amax;
    if dist == Dist::Dialects {
        return nvfp4_grid_block(fmt, k, r, out);
    }
    let raw = block(dist, fmt, k, Formatbook::builtin(), r);
    let amax = finite_amax(raw.iter().map(|&x| fmt.widen(x)));
    let s_t = tensor_scale_for(amax, r);
    out.extend(raw);
    out.push(s_t);
}

/// A tensor scale for data of finite maximum `amax` (FP32 bits): half the time the default
/// RNE(amax / 2688), else that off by a power of two, any positive finite value, an edge value
/// (some not positive finite) or any 32 bits.
pub fn tensor_scale_for(amax: u32, r: &mut impl Rng) -> u32 {
    use crate::golden::nvfp4::{EDGE_TENSOR_SCALES, default_tensor_scale};
    match r.random_range(0..8u32) {
        0..=3 => default_tensor_scale(amax),
        4 => {
            let s = f64::from(f32::from_bits(default_tensor_scale(amax)));
            (s * pow2(r.random_range(-12..=12))) as f32
        }
        .to_bits(),
        5 => r.random_range(1..0x7f80_0000u32),
        6 => EDGE_TENSOR_SCALES[r.random_range(0..EDGE_TENSOR_SCALES.len())],
        _ => r.random(),
    }
}

/// An NVFP4 block on its grid: a tensor scale, mostly with a short significand (sometimes in
/// FP32's subnormals), a block max at 6 s_t x a UE4M3 value or the midpoint to the next one (ties of
/// the block scale, 464 included), and elements at s_b s_t x an E2M1 value or midpoint (ties of
/// the elements), each sometimes one ulp of the input format off.
pub fn nvfp4_grid_block(fmt: InputFormat, k: usize, r: &mut impl Rng, out: &mut Vec<u32>) {
    use crate::golden::nvfp4::{Nvfp4Config, Nvfp4Rule, ue4m3_value};
    const GRID: [f64; 15] = [
        0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0,
    ];
    let c = r.random_range(0..=126u32);
    let v = f64::from(ue4m3_value(c));
    let next = if c == 126 {
        480.0
    } else {
        f64::from(ue4m3_value(c + 1))
    };
    let q = if r.random::<bool>() {
        v
    } else {
        (v + next) / 2.0
    };
    // Mostly a short significand (exact thresholds, so ties), else a full one: the thresholds
    // are then truncated, and elements rounded to them test that they are not taken as ties.
    let short = if r.random_range(0..3u32) == 0 {
        1.0 + f64::from(r.random_range(0..1u32 << 23)) / f64::from(1u32 << 23)
    } else {
        1.0 + f64::from(r.random_range(0..8u32)) / 8.0
    };
    let e = match (fmt, r.random_range(0..6u32)) {
        // The block max in the input's top binade (stimulus only, so a float log2 is fine):
        // with a small scale that rounds up, s_b s_t x 5 passes the format's largest value.
        (_, 1) if q > 0.0 => {
            let top = f64::from(f32::from_bits(fmt.widen(fmt.ieee().max_mag_code()))) * 0.75;
            (top / (6.0 * short * q)).log2().floor() as i32
        }
        (InputFormat::F16, _) => r.random_range(-10..=0),
        (_, 0) => r.random_range(-149..=-120),
        _ => r.random_range(-40..=40),
    };
    let st32 = ((short * pow2(e)) as f32).clamp(f32::from_bits(1), f32::MAX);
    let st = f64::from(st32);
    let sign = 1u32 << (fmt.bits() - 1);
    let nudge = |raw: u32, r: &mut dyn FnMut() -> u32| -> u32 {
        let mag = raw & !sign;
        match r() % 4 {
            0 if mag > 0 => raw - 1,
            1 => raw + 1,
            _ => raw,
        }
    };
    let mut draw = || r.random::<u32>();
    let amax_raw = nudge(to_raw(6.0 * st * q, fmt), &mut draw);
    let amax_mag = amax_raw & !sign;
    let golden = Nvfp4Config::given(Nvfp4Rule::Exact, st32.to_bits(), false);
    let scale = golden.quantize(&[fmt.widen(amax_mag)]).scale;
    let sb = f64::from(ue4m3_value(scale));
    let at = (draw() as usize) % k;
    for i in 0..k {
        let raw = if i == at {
            amax_mag
        } else {
            let m = GRID[(draw() as usize) % GRID.len()];
            let x = nudge(to_raw(sb * st * m, fmt), &mut draw) & !sign;
            // An element above the block max would change the scale: keep it at the max.
            if fmt.widen(x) & 0x7fff_ffff > fmt.widen(amax_mag) {
                amax_mag
            } else {
                x
            }
        };
        out.push(raw | if draw() & 1 == 1 { sign } else { 0 });
    }
    out.push(st32.to_bits());
}

fn fmt_mask(fmt: InputFormat) -> u32 {
    if fmt.bits() == 32 { u32::MAX } else { 0xffff }
}

/// A block hitting one numerics.md section 6 case, picked at random.
fn edge_block(fmt: InputFormat, k: usize, r: &mut impl Rng) -> Vec<u32> {
    let bits = fmt.bits();
    let sign = 1u32 << (bits - 1);
    let exp_bits = match fmt {
        InputFormat::F32 => 8,
        InputFormat::Bf16 => 8,
        InputFormat::F16 => 5,
    };
    let frac_bits = bits - 1 - exp_bits;
    let exp_max = (1u32 << exp_bits) - 1;
    let code =
        |neg: bool, e: u32, f: u32| -> u32 { (u32::from(neg) * sign) | (e << frac_bits) | f };
    let rand_frac = |r: &mut dyn FnMut() -> u32| r() & ((1 << frac_bits) - 1);
    let mut next = || r.random::<u32>();
    let case = next() % 11;
    let mut v: Vec<u32> = (0..k)
        .map(|_| match case {
            // All zeros, mixed signs.
            0 => code(next() & 1 == 1, 0, 0),
            // Subnormals only (the block max needs a leading-one detect).
            1 => code(next() & 1 == 1, 0, rand_frac(&mut next)),
            // The smallest normal binades: the shared exponent clamps at 2^-127 for FP32.
            2 => code(next() & 1 == 1, next() % 3, rand_frac(&mut next)),
            // Near the largest finite value.
            3 => code(
                next() & 1 == 1,
                exp_max - 1 - next() % 2,
                rand_frac(&mut next),
            ),
            // All-ones mantissa in one binade: the saturation band of every element format.
            4 => code(
                next() & 1 == 1,
                exp_max / 2,
                (1 << frac_bits) - 1 - (next() & 1),
            ),
            // Ties: few significant bits (x.xxx1000...) and +-1 ulp around them.
            5 => {
                let keep = 1 + next() % 4;
                let f = (rand_frac(&mut next) >> (frac_bits - keep)) << (frac_bits - keep);
                let f = f | (1 << (frac_bits - keep - 1));
                let f = match next() % 3 {
                    0 => f - 1,
                    1 => f + 1,
                    _ => f,
                };
                code(
                    next() & 1 == 1,
                    exp_max / 2 - next() % 6,
                    f & ((1 << frac_bits) - 1),
                )
            }
            // Exact powers of two.
            6 => code(next() & 1 == 1, exp_max / 2 - next() % 10, 0),
            // BF16-exact values (only 7 fraction bits set) in any format.
            7 => code(
                next() & 1 == 1,
                exp_max / 2 - next() % 8,
                rand_frac(&mut next) & !((1 << frac_bits.saturating_sub(7)) - 1),
            ),
            // Signed zeros beside normal values.
            8 => {
                if next() % 2 == 0 {
                    code(next() & 1 == 1, 0, 0)
                } else {
                    code(next() & 1 == 1, exp_max / 2, rand_frac(&mut next))
                }
            }
            // Everything in one random binade (many equal exponents).
            _ => code(next() & 1 == 1, exp_max / 2 + 3, rand_frac(&mut next)),
        })
        .collect();
    match case {
        // One huge outlier among small values.
        9 => {
            let at = r.random_range(0..k);
            v[at] = code(r.random::<bool>(), exp_max - 2, 0);
        }
        // NaN or Inf at a random position.
        10 => {
            let at = r.random_range(0..k);
            let nan_frac = if r.random::<bool>() {
                0
            } else {
                1 << (frac_bits - 1)
            };
            v[at] = code(r.random::<bool>(), exp_max, nan_frac);
        }
        _ => {}
    }
    v
}

/// A demo weight-like tensor of `rows x cols` raw codes, made piece by piece in row-major order
/// (so a tensor of any size is written in bounded memory): elements of standard deviation 0.02;
/// `outlier` also scales every 97th column by 50 (outlier channels, as in LLM activations).
pub struct TensorGen {
    dist: Dist,
    cols: usize,
    fmt: InputFormat,
    rng: Pcg64,
    at: u64,
}

impl TensorGen {
    pub fn new(dist: Dist, cols: usize, fmt: InputFormat, seed: u64) -> Result<TensorGen, String> {
        if !Dist::TENSOR.contains(&dist) {
            return Err(format!(
                "--dist {dist} makes co-simulation blocks, not tensors (use normal, laplace or outlier)"
            ));
        }
        Ok(TensorGen {
            dist,
            cols: cols.max(1),
            fmt,
            rng: rng(seed),
            at: 0,
        })
    }

    /// Append the next `n` elements.
    pub fn fill(&mut self, out: &mut Vec<u32>, n: usize) {
        let sigma = 0.02;
        for _ in 0..n {
            let c = (self.at % self.cols as u64) as usize;
            let r = &mut self.rng;
            let x = match self.dist {
                Dist::Laplace => laplace(r) * sigma / std::f64::consts::SQRT_2,
                Dist::Outlier => normal(r) * sigma * if c % 97 == 13 { 50.0 } else { 1.0 },
                _ => normal(r) * sigma,
            };
            out.push(to_raw(x, self.fmt));
            self.at += 1;
        }
    }
}

/// A whole demo tensor in memory (tests and small tensors; `make-tensor` streams).
pub fn tensor(
    dist: Dist,
    rows: usize,
    cols: usize,
    fmt: InputFormat,
    seed: u64,
) -> Result<Vec<u32>, String> {
    let mut g = TensorGen::new(dist, cols, fmt, seed)?;
    let mut out = Vec::with_capacity(rows * cols);
    g.fill(&mut out, rows * cols);
    Ok(out)
}
