//! Rust element types of each dtype, their raw bits, and the project's own dtype → libtorch `Kind` table.
//!
//! Invariant: `from_raw` and `raw` are exact inverses on every bit pattern a case may hold (NaN payloads and
//! -0.0 included): they reinterpret, never convert.

use conform_generators::Dtype;
use half::{bf16, f16};
use tch::Kind;

/// An element type conform converts: a tch `Element` that ndarray can hold, with an exact bit mapping.
pub trait Elem: tch::kind::Element + Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    const DTYPE: Dtype;
    fn from_raw(bits: u64) -> Self;
    fn raw(self) -> u64;
}

macro_rules! elem_int {
    ($($t:ty => $d:ident as $u:ty),* $(,)?) => {$(
        impl Elem for $t {
            const DTYPE: Dtype = Dtype::$d;
            fn from_raw(bits: u64) -> Self { bits as $u as $t }
            fn raw(self) -> u64 { self as $u as u64 }
        }
    )*};
}
elem_int!(u8 => U8 as u8, i8 => I8 as u8, i16 => I16 as u16, i32 => I32 as u32, i64 => I64 as u64);

impl Elem for bool {
    const DTYPE: Dtype = Dtype::Bool;
    fn from_raw(bits: u64) -> Self {
        bits != 0
    }
    fn raw(self) -> u64 {
        self as u64
    }
}

macro_rules! elem_float {
    ($($t:ty => $d:ident as $u:ty),* $(,)?) => {$(
        impl Elem for $t {
            const DTYPE: Dtype = Dtype::$d;
            fn from_raw(bits: u64) -> Self { <$t>::from_bits(bits as $u) }
            fn raw(self) -> u64 { <$t>::to_bits(self) as u64 }
        }
    )*};
}
elem_float!(f16 => F16 as u16, bf16 => Bf16 as u16, f32 => F32 as u32, f64 => F64 as u64);

/// Runs `$body` with `$t` bound to the Rust element type of `$dtype`.
#[macro_export]
macro_rules! with_elem {
    ($dtype:expr, $t:ident => $body:expr) => {{
        use $crate::__private::Dtype as D;
        match $dtype {
            D::Bool => {
                type $t = bool;
                $body
            }
            D::U8 => {
                type $t = u8;
                $body
            }
            D::I8 => {
                type $t = i8;
                $body
            }
            D::I16 => {
                type $t = i16;
                $body
            }
            D::I32 => {
                type $t = i32;
                $body
            }
            D::I64 => {
                type $t = i64;
                $body
            }
            D::F16 => {
                type $t = $crate::__private::f16;
                $body
            }
            D::Bf16 => {
                type $t = $crate::__private::bf16;
                $body
            }
            D::F32 => {
                type $t = f32;
                $body
            }
            D::F64 => {
                type $t = f64;
                $body
            }
        }
    }};
}

/// The libtorch kind each dtype stands for — written from libtorch's documentation, not read from tch, so the dtype
/// properties can check tch's `Element::KIND` against it.
pub fn kind_of(dtype: Dtype) -> Kind {
    match dtype {
        Dtype::Bool => Kind::Bool,
        Dtype::U8 => Kind::Uint8,
        Dtype::I8 => Kind::Int8,
        Dtype::I16 => Kind::Int16,
        Dtype::I32 => Kind::Int,
        Dtype::I64 => Kind::Int64,
        Dtype::F16 => Kind::Half,
        Dtype::Bf16 => Kind::BFloat16,
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
    }
}

/// The dtype of a libtorch kind, if conform models it.
pub fn dtype_of(kind: Kind) -> Option<Dtype> {
    Dtype::ALL.into_iter().find(|&d| kind_of(d) == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conform_generators::values::special_values;

    #[test]
    fn bits_round_trip_exactly_for_every_special_value() {
        for dtype in Dtype::ALL {
            with_elem!(dtype, T => {
                assert_eq!(T::DTYPE, dtype);
                for bits in special_values(dtype) {
                    assert_eq!(T::from_raw(bits).raw(), bits, "{dtype} {bits:#x}");
                }
            });
        }
    }

    #[test]
    fn kind_table_is_a_bijection() {
        for dtype in Dtype::ALL {
            assert_eq!(dtype_of(kind_of(dtype)), Some(dtype));
            assert_eq!(kind_of(dtype).elt_size_in_bytes(), dtype.size_bytes());
        }
    }
}
