//! ExMy minifloats (the OCP MX FP8/FP6/FP4 element formats), described as data.

use super::exact::{shift_rne, split_shift};

/// Which codes of the top binade are special.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specials {
    /// Every code is a finite number (FP6, FP4).
    None,
    /// Only S.1111.111 is NaN; no infinity (E4M3).
    NanAllOnes,
    /// IEEE-style: top exponent with zero mantissa is Inf, otherwise NaN (E5M2).
    Ieee,
}

/// One ExMy format. Fields are the format's definition; everything else is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiniFloat {
    pub ebits: u32,
    pub mbits: u32,
    pub bias: i32,
    pub specials: Specials,
}

/// Result of decoding one element code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// `(-1)^neg * sig * 2^exp`; `sig` may be 0 (a signed zero).
    Finite {
        neg: bool,
        sig: u32,
        exp: i32,
    },
    Inf {
        neg: bool,
    },
    Nan,
}

/// Magnitude rounded into a format: the code's magnitude bits and whether saturation clamped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounded {
    pub mag_code: u32,
    pub saturated: bool,
}

impl MiniFloat {
    pub const fn bits(&self) -> u32 {
        1 + self.ebits + self.mbits
    }

    /// Exponent of the smallest normal binade.
    pub const fn emin(&self) -> i32 {
        1 - self.bias
    }

    /// Exponent of one unit in the last place of the subnormals: the format's finest quantum.
    pub const fn quantum_exp(&self) -> i32 {
        self.emin() - self.mbits as i32
    }

    /// Magnitude code (no sign) of the largest finite value.
    pub const fn max_mag_code(&self) -> u32 {
        let all_ones = (1u32 << (self.ebits + self.mbits)) - 1;
        match self.specials {
            Specials::None => all_ones,
            Specials::NanAllOnes => all_ones - 1,
            Specials::Ieee => all_ones - (1 << self.mbits),
        }
    }

    /// Magnitude code of infinity in an IEEE-style format (the next code after the maximum).
    pub const fn inf_mag_code(&self) -> u32 {
        self.max_mag_code() + 1
    }

    /// Exponent of the largest binade holding finite values: `emax_elem` of numerics.md.
    pub const fn emax(&self) -> i32 {
        (self.max_mag_code() >> self.mbits) as i32 - self.bias
    }

    pub const fn sign_bit(&self) -> u32 {
        1 << (self.ebits + self.mbits)
    }

    pub fn decode(&self, code: u32) -> Decoded {
        let neg = code & self.sign_bit() != 0;
        let mag = code & (self.sign_bit() - 1);
        let e_field = mag >> self.mbits;
        let f = mag & ((1 << self.mbits) - 1);
        let top = (1 << self.ebits) - 1;
        match self.specials {
            Specials::NanAllOnes if mag == self.sign_bit() - 1 => return Decoded::Nan,
            Specials::Ieee if e_field == top && f == 0 => return Decoded::Inf { neg },
            Specials::Ieee if e_field == top => return Decoded::Nan,
            _ => {}
        }
        if e_field == 0 {
            Decoded::Finite {
                neg,
                sig: f,
                exp: self.quantum_exp(),
            }
        } else {
            Decoded::Finite {
                neg,
                sig: f | (1 << self.mbits),
                exp: e_field as i32 - self.bias - self.mbits as i32,
            }
        }
    }

    /// Round `mant * 2^exp` (mant > 0) to nearest, ties to even, keeping subnormals, then
    /// saturate to the largest finite magnitude. Saturation is decided after rounding, so a
    /// rounding carry into the next binade saturates too. `saturated` reports a magnitude
    /// strictly above the largest finite value (so it was clipped), whether or not RNE alone
    /// would have landed on the maximum.
    pub fn round_saturate(&self, mant: u64, exp: i32) -> Rounded {
        let floor_log2 = exp + (63 - mant.leading_zeros() as i32);
        let max = u64::from(self.max_mag_code());
        let clamped = Rounded {
            mag_code: self.max_mag_code(),
            saturated: true,
        };
        // A value far above the format cannot shift left without overflow, and saturates.
        if floor_log2 > self.emax() + 1 {
            return clamped;
        }
        let quantum = floor_log2.max(self.emin()) - self.mbits as i32;
        let shift = quantum - exp;
        // Only the top binade can hold a value above the maximum.
        let above_max = floor_log2 >= self.emax() && {
            let (kept, inexact) = split_shift(mant, shift);
            let trunc_code = self.mag_code_of(kept, quantum);
            trunc_code > max || (trunc_code == max && inexact)
        };
        let mag_code = self.mag_code_of(shift_rne(mant, shift), quantum);
        if mag_code > max {
            clamped
        } else {
            Rounded {
                mag_code: mag_code as u32,
                saturated: above_max,
            }
        }
    }

    /// IEEE rounding of a positive `mant * 2^exp` (mant > 0): the magnitude code rounded to
    /// nearest, ties to even, subnormals kept; None when the rounded value exceeds the largest
    /// finite one (an IEEE format then gives infinity). Unlike `round_saturate`, a value above
    /// the maximum that rounds down to it is the maximum, as IEEE 754 says.
    pub fn round_nearest(&self, mant: u64, exp: i32) -> Option<u32> {
        let floor_log2 = exp + (63 - mant.leading_zeros() as i32);
        if floor_log2 > self.emax() + 1 {
            return None;
        }
        let quantum = floor_log2.max(self.emin()) - self.mbits as i32;
        let code = self.mag_code_of(shift_rne(mant, quantum - exp), quantum);
        (code <= u64::from(self.max_mag_code())).then_some(code as u32)
    }

    /// Code of the magnitude `n * 2^quantum`, where `quantum` is the ulp of the binade the value
    /// was rounded in (so `n < 2^(mbits+1)`, or exactly `2^(mbits+1)` after a carry).
    fn mag_code_of(&self, n: u64, quantum: i32) -> u64 {
        let hidden = 1u64 << self.mbits;
        if n < hidden {
            return n; // zero or subnormal: the code is the count of quanta
        }
        let (n, quantum) = if n == hidden << 1 {
            (hidden, quantum + 1)
        } else {
            (n, quantum)
        };
        let e_field = (quantum + self.mbits as i32 + self.bias) as u64;
        (e_field << self.mbits) | (n - hidden)
    }
}

pub const E4M3: MiniFloat = MiniFloat {
    ebits: 4,
    mbits: 3,
    bias: 7,
    specials: Specials::NanAllOnes,
};
pub const E5M2: MiniFloat = MiniFloat {
    ebits: 5,
    mbits: 2,
    bias: 15,
    specials: Specials::Ieee,
};
pub const E3M2: MiniFloat = MiniFloat {
    ebits: 3,
    mbits: 2,
    bias: 3,
    specials: Specials::None,
};
pub const E2M3: MiniFloat = MiniFloat {
    ebits: 2,
    mbits: 3,
    bias: 1,
    specials: Specials::None,
};
pub const E2M1: MiniFloat = MiniFloat {
    ebits: 2,
    mbits: 1,
    bias: 1,
    specials: Specials::None,
};
