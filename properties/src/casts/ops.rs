//! The cast operations under test: libtorch's `to_kind`, the `half` crate's conversions, and ndarray's
//! `mapv(|x| x as T)`. Each turns a whole case into a target dtype and gives the result's bits in logical order;
//! the cast properties hand those bits to `conform_judge::casts`.

use conform_generators::{Dtype, TensorCase};

use crate::convert::{storage_of, tensor_bits, CaseTensor, ConvertError};
use crate::element::kind_of;
use crate::view::array_view;

/// Why a cast operation produced no output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CastError {
    /// The system under test returned an error.
    #[error("{0}")]
    System(String),
    /// The operation has no conversion for this pair of dtypes.
    #[error("{what} has no {from}→{to} conversion")]
    Unsupported { what: &'static str, from: Dtype, to: Dtype },
}

impl From<ConvertError> for CastError {
    fn from(e: ConvertError) -> CastError {
        CastError::System(e.to_string())
    }
}

impl From<tch::TchError> for CastError {
    fn from(e: tch::TchError) -> CastError {
        CastError::System(e.to_string())
    }
}

/// What a [`CastOp`] runs.
pub type CastFn = Box<dyn Fn(&TensorCase, Dtype) -> Result<Vec<u64>, CastError> + Send + Sync>;

/// A conversion of a whole case to a target dtype, giving the result's bits in logical order.
pub struct CastOp {
    pub name: &'static str,
    pub run: CastFn,
}

impl CastOp {
    /// libtorch's `Tensor::to_kind` on CPU.
    pub fn to_kind() -> CastOp {
        CastOp {
            name: "to_kind",
            run: Box::new(|case, target| {
                let source = CaseTensor::of(case)?;
                let out = source.tensor().f_to_kind(kind_of(target))?;
                Ok(tensor_bits(&out)?.bits)
            }),
        }
    }

    /// The `half` crate's `f16::from_f32`, `f16::from_f64`, `bf16::from_f32`, `bf16::from_f64`.
    pub fn half_crate() -> CastOp {
        use half::{bf16, f16};
        CastOp {
            name: "half from_f32/from_f64",
            run: Box::new(|case, target| {
                let source = case.dtype();
                let convert: fn(u64) -> u64 = match (source, target) {
                    (Dtype::F32, Dtype::F16) => |b| f16::from_f32(f32::from_bits(b as u32)).to_bits() as u64,
                    (Dtype::F64, Dtype::F16) => |b| f16::from_f64(f64::from_bits(b)).to_bits() as u64,
                    (Dtype::F32, Dtype::Bf16) => |b| bf16::from_f32(f32::from_bits(b as u32)).to_bits() as u64,
                    (Dtype::F64, Dtype::Bf16) => |b| bf16::from_f64(f64::from_bits(b)).to_bits() as u64,
                    _ => return Err(CastError::Unsupported { what: "half", from: source, to: target }),
                };
                Ok(case.logical().into_iter().map(convert).collect())
            }),
        }
    }

    /// ndarray's `mapv(|x| x as T)` (Rust's `as`), on an array with the case's layout.
    pub fn ndarray_mapv() -> CastOp {
        CastOp {
            name: "ndarray mapv(as)",
            run: Box::new(|case, target| {
                macro_rules! mapv {
                    ($s:ty, $t:ty) => {{
                        let data = storage_of::<$s>(case);
                        array_view(case.layout(), &data).mapv(|x| x as $t).iter().map(|y| y.to_bits() as u64).collect()
                    }};
                }
                Ok(match (case.dtype(), target) {
                    (Dtype::F64, Dtype::F32) => mapv!(f64, f32),
                    (Dtype::F32, Dtype::F64) => mapv!(f32, f64),
                    (Dtype::I64, Dtype::F64) => mapv!(i64, f64),
                    (Dtype::I64, Dtype::F32) => mapv!(i64, f32),
                    (Dtype::I32, Dtype::F32) => mapv!(i32, f32),
                    (Dtype::I32, Dtype::F64) => mapv!(i32, f64),
                    (from, to) => return Err(CastError::Unsupported { what: "conform's mapv", from, to }),
                })
            }),
        }
    }

    /// Runs the op; an error is a failure that names the op and the pair (its message is the error's first line).
    pub fn apply(&self, case: &TensorCase, target: Dtype) -> Result<Vec<u64>, conform_judge::CheckError> {
        (self.run)(case, target).map_err(|e| {
            conform_judge::CheckError::system(&format!("{}({}→{target})", self.name, case.dtype()), &e.to_string())
        })
    }
}
