//! Quantization error statistics. These are measurements of the golden model's output, so f64
//! is fine here: nothing on the value path depends on them.

use super::{BlockFormat, QuantBlock};
use serde::Serialize;

/// Sums over a set of blocks; combine partial results in a fixed order for byte-identical output.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErrorStats {
    pub blocks: u64,
    /// Elements measured (padding excluded; elements of NaN blocks are counted here too).
    pub elements: u64,
    pub sum_sq_signal: f64,
    pub sum_sq_error: f64,
    pub max_abs_err: f64,
    pub saturated: u64,
    pub nan_blocks: u64,
    /// Elements of NaN blocks, which have no error to measure.
    pub nan_elements: u64,
    /// Blocks per chosen dialect id (BlockDialect only).
    pub dialect_histogram: Vec<u64>,
}

impl ErrorStats {
    /// Account one block whose first `valid` inputs are real data (the rest is padding).
    pub fn add_block(&mut self, fmt: &BlockFormat, input: &[u32], q: &QuantBlock, valid: usize) {
        self.blocks += 1;
        self.elements += valid as u64;
        if let Some(d) = q.dialect {
            let d = usize::from(d);
            if self.dialect_histogram.len() <= d {
                self.dialect_histogram.resize(d + 1, 0);
            }
            self.dialect_histogram[d] += 1;
        }
        if q.nan {
            self.nan_blocks += 1;
            self.nan_elements += valid as u64;
            return;
        }
        self.saturated += u64::from(q.saturated);
        let deq = fmt.dequantize(q);
        for (&x, &y) in input[..valid].iter().zip(&deq) {
            let x = f64::from(f32::from_bits(x));
            let err = x - y;
            self.sum_sq_signal += x * x;
            self.sum_sq_error += err * err;
            self.max_abs_err = self.max_abs_err.max(err.abs());
        }
    }

    pub fn merge(&mut self, other: &ErrorStats) {
        self.blocks += other.blocks;
        self.elements += other.elements;
        self.sum_sq_signal += other.sum_sq_signal;
        self.sum_sq_error += other.sum_sq_error;
        self.max_abs_err = self.max_abs_err.max(other.max_abs_err);
        self.saturated += other.saturated;
        self.nan_blocks += other.nan_blocks;
        self.nan_elements += other.nan_elements;
        if self.dialect_histogram.len() < other.dialect_histogram.len() {
            self.dialect_histogram
                .resize(other.dialect_histogram.len(), 0);
        }
        for (a, b) in self
            .dialect_histogram
            .iter_mut()
            .zip(&other.dialect_histogram)
        {
            *a += b;
        }
    }

    /// Mean squared error over the elements that have one (NaN blocks excluded); None when no
    /// element has one (every block NaN).
    pub fn mse(&self) -> Option<f64> {
        let n = self.elements - self.nan_elements;
        (n > 0).then(|| self.sum_sq_error / n as f64)
    }

    /// Signal-to-quantization-noise ratio in dB; None when there is no error at all (infinite).
    pub fn sqnr_db(&self) -> Option<f64> {
        sqnr_db(self.sum_sq_signal, self.sum_sq_error)
    }
}

/// SQNR in dB from summed signal and error energies; None when it is not finite (no error, so
/// infinite, or no signal either, so undefined).
pub fn sqnr_db(sum_sq_signal: f64, sum_sq_error: f64) -> Option<f64> {
    let db = 10.0 * (sum_sq_signal / sum_sq_error).log10();
    db.is_finite().then_some(db)
}

/// An SQNR for reports, to two decimals, or "n/a" when it is not finite (no error, or nothing
/// measured).
pub fn show_db(db: Option<f64>) -> String {
    db.map_or("n/a".into(), |d| format!("{d:.2}"))
}

/// An MSE for tables, or "n/a" when nothing was measured.
pub fn show_mse(mse: Option<f64>) -> String {
    mse.map_or("n/a".into(), |m| format!("{m:.4e}"))
}
