//! The operation under test: one call of a safe tch function, made from an [`ApiCase`]'s call and arguments
//! ([`ApiOp::tch`]), and what the check needs around it — the input tensor with the storage it lies in
//! ([`make_input`]), the data and destination buffers with their guard bytes, and a tensor's bytes.
//!
//! Invariant: every buffer handed to tch is a prefix of a longer one whose tail holds a known canary, so a call that
//! reads or writes past what it was given does so inside conform's own allocation (within [`GUARD`] elements, or
//! the whole request for `f_from_data_size`), and the check sees it instead of the process dying at random. Only
//! tch's safe functions are called.

use conform_generators::api::{pattern, MAX_API_BYTES};
use conform_generators::{ApiCall, ApiInput, ApiKind, InputLayout};
use tch::{Device, Kind, TchError, Tensor};

use crate::api::judge::Span;
use crate::element::Elem;
use crate::with_elem;

/// Extra elements after every destination buffer, holding the canary.
pub const GUARD: usize = 16;

/// The canary byte of destination buffers (bool destinations: 1, a valid bool).
pub fn canary(bool_dst: bool) -> u8 {
    if bool_dst {
        1
    } else {
        0xa5
    }
}

/// The byte after the data of `f_from_data_size`: what a read past the data would copy.
pub const DATA_CANARY: u8 = 0x5a;

/// The tch kind of an [`ApiKind`].
pub fn tch_kind(kind: ApiKind) -> Kind {
    match kind {
        ApiKind::U8 => Kind::Uint8,
        ApiKind::I8 => Kind::Int8,
        ApiKind::I16 => Kind::Int16,
        ApiKind::I32 => Kind::Int,
        ApiKind::I64 => Kind::Int64,
        ApiKind::F32 => Kind::Float,
        ApiKind::F64 => Kind::Double,
        ApiKind::F16 => Kind::Half,
        ApiKind::Bf16 => Kind::BFloat16,
        ApiKind::Bool => Kind::Bool,
        ApiKind::Complex32 => Kind::ComplexHalf,
        ApiKind::Complex64 => Kind::ComplexFloat,
        ApiKind::Complex128 => Kind::ComplexDouble,
        ApiKind::Float8E5m2 => Kind::Float8e5m2,
        ApiKind::Float8E4m3fn => Kind::Float8e4m3fn,
        ApiKind::Float8E5m2fnuz => Kind::Float8e5m2fnuz,
        ApiKind::Float8E4m3fnuz => Kind::Float8e4m3fnuz,
        ApiKind::Qint8 => Kind::QInt8,
        ApiKind::Quint8 => Kind::QUInt8,
        ApiKind::Qint32 => Kind::QInt32,
    }
}

/// The [`ApiKind`] of a tch kind.
pub fn api_kind(kind: Kind) -> ApiKind {
    ApiKind::ALL.into_iter().find(|&k| tch_kind(k) == kind).expect("every tch kind has an ApiKind")
}

/// The input tensor of a method case, and the storage it lies in.
pub struct Input {
    pub tensor: Tensor,
    pub span: Span,
    /// Keeps the storage alive as long as the span is used.
    _storage: Tensor,
}

/// Makes the input tensor of `input`: its storage bytes as one 1-D tensor, then the layout over it.
pub fn make_input(input: &ApiInput) -> Result<Input, TchError> {
    let kind = tch_kind(input.kind);
    let storage = Tensor::f_from_data_size(&input.storage_bytes(), &[input.storage_len() as i64], kind)?;
    let span = Span { base: storage.data_ptr() as usize, bytes: input.storage_len() * input.kind.size_bytes() };
    let shape: Vec<i64> = input.shape.iter().map(|&s| s as i64).collect();
    let storage_shape: Vec<i64> = input.storage_shape().iter().map(|&s| s as i64).collect();
    let tensor = match input.layout {
        InputLayout::Contiguous => storage.f_view_(&shape)?,
        InputLayout::Offset => storage.f_narrow(0, 1, input.numel() as i64)?.f_view_(&shape)?,
        InputLayout::Transposed => storage.f_view_(&storage_shape)?.f_transpose(-1, -2)?,
    };
    Ok(Input { tensor, span, _storage: storage })
}

/// The data buffer of `f_from_data_size`: `data_len` bytes of the input pattern of `kind`, followed by
/// [`DATA_CANARY`] up to `needed` bytes (what the sizes say) when that is more and within the limit.
pub fn data_buffer(data_len: usize, needed: Option<u128>, kind: ApiKind) -> Vec<u8> {
    let mut data = pattern(ApiKind::U8, data_len);
    if kind == ApiKind::Bool {
        data.iter_mut().for_each(|b| *b &= 1);
    }
    let total = needed.filter(|&n| n <= MAX_API_BYTES as u128).map_or(0, |n| n as usize).max(data_len);
    data.resize(total, DATA_CANARY);
    data
}

/// What a call gave back.
pub enum Produced {
    Tensor(Tensor),
    /// The whole destination buffer of a `f_copy_data*` call after it returned `Ok`, [`GUARD`] included, as bytes.
    Copied(Vec<u8>),
}

/// The arguments a call is made with besides its case: the input tensor and, for `f_from_data_size`, the data.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    pub input: Option<&'a Tensor>,
    pub data: &'a [u8],
}

impl<'a> Args<'a> {
    fn input(&self) -> Result<&'a Tensor, TchError> {
        self.input.ok_or_else(|| TchError::Convert("conform: a method call without an input tensor".into()))
    }
}

type Run = dyn Fn(&ApiCall, Args<'_>) -> Result<Produced, TchError> + Send + Sync;

/// An operation under test: tch's own calls, or a planted defect in a unit test.
pub struct ApiOp {
    pub name: &'static str,
    pub run: Box<Run>,
}

impl ApiOp {
    /// tch 0.24's functions, called as the case says.
    pub fn tch() -> ApiOp {
        ApiOp { name: "tch", run: Box::new(call_tch) }
    }

    pub fn call(&self, call: &ApiCall, args: Args<'_>) -> Result<Produced, TchError> {
        (self.run)(call, args)
    }
}

fn call_tch(call: &ApiCall, args: Args<'_>) -> Result<Produced, TchError> {
    use ApiCall as C;
    let tensor = |t: Result<Tensor, TchError>| t.map(Produced::Tensor);
    match call {
        C::AsStrided { size, stride, storage_offset } => {
            tensor(args.input()?.f_as_strided(size.as_slice(), stride.as_slice(), *storage_offset))
        }
        C::View { size } => tensor(args.input()?.f_view_(size.as_slice())),
        C::Reshape { size } => tensor(args.input()?.f_reshape(size.as_slice())),
        C::InternalReshapeAlias { size, stride } => {
            tensor(args.input()?.f_internal_reshape_alias(size.as_slice(), stride.as_slice()))
        }
        C::Expand { size, implicit } => tensor(args.input()?.f_expand(size.as_slice(), *implicit)),
        C::Narrow { dim, start, length } => tensor(args.input()?.f_narrow(*dim, *start, *length)),
        C::Select { dim, index } => tensor(args.input()?.f_select(*dim, *index)),
        C::Slice { dim, start, end, step } => tensor(args.input()?.f_slice(*dim, *start, *end, *step)),
        C::Unfold { dimension, size, step } => tensor(args.input()?.f_unfold(*dimension, *size, *step)),
        C::Permute { dims } => tensor(args.input()?.f_permute(dims.as_slice())),
        C::Transpose { dim0, dim1 } => tensor(args.input()?.f_transpose(*dim0, *dim1)),
        C::Flatten { start_dim, end_dim } => tensor(args.input()?.f_flatten(*start_dim, *end_dim)),
        C::Unsqueeze { dim } => tensor(args.input()?.f_unsqueeze(*dim)),
        C::SqueezeDim { dim } => tensor(args.input()?.f_squeeze_dim(*dim)),
        C::IndexSelect { dim, index, index_kind } => {
            let index = Tensor::f_from_slice(index)?;
            let index = if *index_kind == ApiKind::I64 { index } else { index.f_to_kind(tch_kind(*index_kind))? };
            tensor(args.input()?.f_index_select(*dim, &index))
        }
        C::ToKind { kind } => tensor(args.input()?.f_to_kind(tch_kind(*kind))),
        C::Zeros { size, kind } => tensor(Tensor::f_zeros(size.as_slice(), (tch_kind(*kind), Device::Cpu))),
        C::EmptyStrided { size, stride, kind } => {
            tensor(Tensor::f_empty_strided(size.as_slice(), stride.as_slice(), (tch_kind(*kind), Device::Cpu)))
        }
        C::FromDataSize { size, kind, .. } => tensor(Tensor::f_from_data_size(args.data, size, tch_kind(*kind))),
        C::CopyDataU8 { dst_len, numel } => {
            let mut dst = vec![canary(false); *dst_len as usize + GUARD];
            args.input()?.f_copy_data_u8(&mut dst[..*dst_len as usize], *numel as usize)?;
            Ok(Produced::Copied(dst))
        }
        C::CopyData { element, dst_len, numel } => {
            let input = args.input()?;
            with_elem!(*element, T => {
                let size = <T as Elem>::DTYPE.size_bytes();
                let fill = T::from_raw(u64::from_le_bytes([canary(*element == conform_generators::Dtype::Bool); 8]) & element.mask());
                let mut dst = vec![fill; *dst_len as usize + GUARD];
                input.f_copy_data(&mut dst[..*dst_len as usize], *numel as usize)?;
                Ok(Produced::Copied(dst.iter().flat_map(|x| x.raw().to_le_bytes().into_iter().take(size)).collect()))
            })
        }
    }
}

/// A tensor's elements as bytes, row-major (`f_contiguous`, then `f_copy_data_u8` of exactly its numel).
pub fn tensor_bytes(t: &Tensor, numel: usize, element: usize) -> Result<Vec<u8>, TchError> {
    let mut bytes = vec![0u8; numel * element];
    t.f_contiguous()?.f_copy_data_u8(&mut bytes, numel)?;
    Ok(bytes)
}
