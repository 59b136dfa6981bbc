//! Quantizing a 4096 x 4096 FP32 tensor with the golden model, on all cores. Prints figures;
//! asserts nothing (targets from issue 2: MXFP4 and MXINT8 < 0.5 s, DialectFP4 mse < 2 s).

use blockrtl::format::{InputFormat, ScaleFormat};
use blockrtl::golden::{FracBits, Selector};
use blockrtl::io::Tensor;
use blockrtl::quantize::{QuantizeOptions, quantize_tensor, quantizer_for};
use blockrtl::stimulus::{Dist, tensor};
use indicatif::ProgressBar;
use std::time::Instant;

fn main() {
    let (rows, cols) = (4096, 4096);
    let t = Tensor {
        name: "bench".into(),
        shape: vec![rows, cols],
        dtype: InputFormat::F32,
        bits: tensor(Dist::Laplace, rows, cols, InputFormat::F32, 1).unwrap(),
    };
    println!(
        "quantize 4096 x 4096 f32 (laplace), block size 32, {} threads; median of 5 runs",
        rayon::current_num_threads()
    );
    for (name, selector) in [
        ("mxfp4", Selector::Mse),
        ("mxint8", Selector::Mse),
        ("mxfp8_e4m3", Selector::Mse),
        ("dialectfp4", Selector::Mse),
        ("dialectfp4", Selector::TwoStage),
    ] {
        let opts = QuantizeOptions {
            block_size: 32,
            pad: false,
            selector,
            frac_bits: FracBits::Bits(2),
            scale: ScaleFormat::E8m0,
            formatbook: None,
            flush_subnormals: false,
            scale_rule: blockrtl::format::ScaleRule::Floor,
            nvfp4: Default::default(),
        };
        let q = quantizer_for(name, &opts).unwrap();
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let start = Instant::now();
                let r = quantize_tensor(&t, &q, &opts, false, &ProgressBar::hidden()).unwrap();
                std::hint::black_box(r.stats.sum_sq_error);
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let label = if name == "dialectfp4" {
            format!("{name} {selector}")
        } else {
            name.to_string()
        };
        println!(
            "{label:<22} {:>7.3} s  ({:.1} M elements/s)",
            times[2],
            (rows * cols) as f64 / times[2] / 1e6
        );
    }
}
