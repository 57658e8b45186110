//! Element types of the case model and what their raw bits mean.
//!
//! Invariant: a case stores every element as raw bits in the low `width()` bits of a `u64`; the other bits are zero.
//! Bool elements are 0 or 1 (libtorch's bool storage holds no other byte values).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An element type that both libtorch (a `tch::Kind`) and ndarray (an element type) support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Bool,
    U8,
    I8,
    I16,
    I32,
    I64,
    F16,
    Bf16,
    F32,
    F64,
}

impl Dtype {
    /// Every dtype, in the order strategies draw and shrink them.
    pub const ALL: [Dtype; 10] = [
        Dtype::Bool,
        Dtype::U8,
        Dtype::I8,
        Dtype::I16,
        Dtype::I32,
        Dtype::I64,
        Dtype::F16,
        Dtype::Bf16,
        Dtype::F32,
        Dtype::F64,
    ];

    /// The floating-point dtypes.
    pub const FLOATS: [Dtype; 4] = [Dtype::F16, Dtype::Bf16, Dtype::F32, Dtype::F64];

    /// The lowercase name used in JSON, flags and messages.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::U8 => "u8",
            Dtype::I8 => "i8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::I64 => "i64",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    /// Size of one element in bytes.
    pub fn size_bytes(self) -> usize {
        match self {
            Dtype::Bool | Dtype::U8 | Dtype::I8 => 1,
            Dtype::I16 | Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::I32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::F64 => 8,
        }
    }

    /// Number of meaningful bits of an element's raw form.
    pub fn width(self) -> u32 {
        match self {
            Dtype::Bool => 1,
            other => other.size_bytes() as u32 * 8,
        }
    }

    /// Mask of the meaningful bits.
    pub fn mask(self) -> u64 {
        match self.width() {
            64 => u64::MAX,
            w => (1u64 << w) - 1,
        }
    }

    pub fn is_float(self) -> bool {
        self.float_format().is_some()
    }

    pub fn is_signed_int(self) -> bool {
        matches!(self, Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64)
    }

    /// The IEEE-style binary format of a float dtype.
    pub fn float_format(self) -> Option<FloatFormat> {
        match self {
            Dtype::F16 => Some(FloatFormat::F16),
            Dtype::Bf16 => Some(FloatFormat::BF16),
            Dtype::F32 => Some(FloatFormat::F32),
            Dtype::F64 => Some(FloatFormat::F64),
            _ => None,
        }
    }

    /// The element's numeric value, exactly (every dtype here widens to f64 exactly except i64 beyond 2^53, which
    /// callers that need exactness read with [`Dtype::as_i128`]).
    pub fn as_f64(self, bits: u64) -> f64 {
        match self.float_format() {
            Some(format) => format.to_f64(bits),
            None => self.as_i128(bits) as f64,
        }
    }

    /// The integer value of an integer or bool element (sign-extended for signed types).
    pub fn as_i128(self, bits: u64) -> i128 {
        let w = self.width();
        if self.is_signed_int() {
            (((bits << (64 - w)) as i64) >> (64 - w)) as i128
        } else {
            (bits & self.mask()) as i128
        }
    }

    /// A person-readable decimal rendering of an element: exact for integers, and for floats a decimal that reads
    /// back to the same value (`NaN` carries no payload here: the hex bits next to it do).
    pub fn render(self, bits: u64) -> String {
        match self {
            Dtype::Bool => if bits & 1 == 1 { "true" } else { "false" }.to_string(),
            _ if self.is_float() => {
                let x = self.as_f64(bits);
                if x.is_nan() {
                    let sign = if bits >> (self.width() - 1) & 1 == 1 { "-" } else { "" };
                    format!("{sign}NaN")
                } else if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e16) {
                    format!("{x:e}")
                } else {
                    format!("{x:?}")
                }
            }
            _ => self.as_i128(bits).to_string(),
        }
    }

    /// The element's bits in hex, zero-padded to the dtype's width.
    pub fn hex(self, bits: u64) -> String {
        let digits = (self.width() as usize).div_ceil(4);
        format!("0x{bits:0digits$x}")
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dtype name that is not one of [`Dtype::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dtype `{0}`\n(hint: use one of bool, u8, i8, i16, i32, i64, f16, bf16, f32, f64)")]
pub struct UnknownDtype(pub String);

impl FromStr for Dtype {
    type Err = UnknownDtype;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dtype::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| UnknownDtype(s.to_string()))
    }
}

/// A binary floating-point format: 1 sign bit, `exp_bits` exponent bits, `man_bits` stored significand bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FloatFormat {
    pub exp_bits: u32,
    pub man_bits: u32,
}

impl FloatFormat {
    pub const F16: FloatFormat = FloatFormat { exp_bits: 5, man_bits: 10 };
    pub const BF16: FloatFormat = FloatFormat { exp_bits: 8, man_bits: 7 };
    pub const F32: FloatFormat = FloatFormat { exp_bits: 8, man_bits: 23 };
    pub const F64: FloatFormat = FloatFormat { exp_bits: 11, man_bits: 52 };

    pub fn width(self) -> u32 {
        1 + self.exp_bits + self.man_bits
    }
    pub fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }
    pub fn sign_bit(self) -> u64 {
        1 << (self.width() - 1)
    }
    pub fn exp_mask(self) -> u64 {
        ((1u64 << self.exp_bits) - 1) << self.man_bits
    }
    pub fn man_mask(self) -> u64 {
        (1u64 << self.man_bits) - 1
    }
    /// The quiet bit: the top stored significand bit.
    pub fn quiet_bit(self) -> u64 {
        1 << (self.man_bits - 1)
    }
    pub fn is_nan(self, bits: u64) -> bool {
        bits & self.exp_mask() == self.exp_mask() && bits & self.man_mask() != 0
    }
    pub fn infinity(self) -> u64 {
        self.exp_mask()
    }
    /// The largest finite number's bits: one below infinity.
    pub fn max_finite(self) -> u64 {
        self.exp_mask() - 1
    }
    /// The smallest positive normal number's bits.
    pub fn min_normal(self) -> u64 {
        1 << self.man_bits
    }

    /// The exact value of `bits` as an f64 (exact for every format here, since each is at most as wide as f64 in
    /// both exponent range and precision).
    pub fn to_f64(self, bits: u64) -> f64 {
        if self == FloatFormat::F64 {
            return f64::from_bits(bits);
        }
        let negative = bits & self.sign_bit() != 0;
        let exp = ((bits & self.exp_mask()) >> self.man_bits) as i32;
        let man = bits & self.man_mask();
        let magnitude = if exp == (1 << self.exp_bits) - 1 {
            if man == 0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        } else if exp == 0 {
            man as f64 * 2f64.powi(1 - self.bias() - self.man_bits as i32)
        } else {
            (man | 1 << self.man_bits) as f64 * 2f64.powi(exp - self.bias() - self.man_bits as i32)
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for d in Dtype::ALL {
            assert_eq!(d.name().parse::<Dtype>(), Ok(d));
        }
        let err = "float".parse::<Dtype>().unwrap_err().to_string();
        assert!(err.contains("unknown dtype `float`") && err.contains("hint"), "{err}");
    }

    #[test]
    fn float_formats_read_exactly() {
        assert_eq!(FloatFormat::F16.to_f64(0x3c00), 1.0);
        assert_eq!(FloatFormat::F16.to_f64(0x0001), 2f64.powi(-24));
        assert_eq!(FloatFormat::F16.to_f64(0x7bff), 65504.0);
        assert_eq!(FloatFormat::BF16.to_f64(0x3f80), 1.0);
        assert_eq!(FloatFormat::F32.to_f64(0x0000_0001), f32::from_bits(1) as f64);
        assert!(FloatFormat::F16.to_f64(0xfe01).is_nan());
        assert_eq!(FloatFormat::F16.to_f64(0xfc00), f64::NEG_INFINITY);
        assert_eq!(FloatFormat::F16.max_finite(), 0x7bff);
        assert_eq!(FloatFormat::F32.max_finite(), f32::MAX.to_bits() as u64);
    }

    #[test]
    fn render_and_hex() {
        assert_eq!(Dtype::F32.render(0x3f80_0000), "1.0");
        assert_eq!(Dtype::F32.render(0x8000_0000), "-0.0");
        assert_eq!(Dtype::F16.render(0x0001), "5.960464477539063e-8");
        assert_eq!(Dtype::F16.render(0xfe01), "-NaN");
        assert_eq!(Dtype::I8.render(0xff), "-1");
        assert_eq!(Dtype::I8.hex(0xff), "0xff");
        assert_eq!(Dtype::Bool.hex(1), "0x1");
        assert_eq!(Dtype::I64.as_i128(u64::MAX), -1);
    }
}
