//! The aliasing family's planted defects: each check fails on a deliberately wrong operation (a view that copies,
//! a copy that aliases, a view with the wrong layout, a write that misses an element…) and shrinks it — to the
//! smallest case that still shows the defect, whether the defect strikes every case or only one element, one
//! dtype or one kind of layout. The view-ops check gets one defect per arm, each with its own signature.

use conform_generators::{CaseSpace, Dtype, Layout, LayoutMix, TensorCase};
use conform_judge::strides;
use tch::{TchError, Tensor};

use super::*;
use crate::convert::{deep_copy, tensor_bits};
use crate::testing::{assert_caught, assert_passes, memory_ordered_tensor, minimal_failure, tensor_of, Position};
use crate::view::ViewError;

// Zero-copy views: writes both ways and element addresses.

#[test]
fn real_ops_pass_on_contiguous_float_cases() {
    let space = CaseSpace::all(16).with_dtypes(&[Dtype::F32]).with_layouts(LayoutMix::CONTIGUOUS);
    assert_passes(space.clone(), |c| zero_copy_view_writes_both_ways(c, &zero_copy));
    assert_passes(space, |c| element_addresses_agree(c, &zero_copy));
}

#[test]
fn real_ops_pass_on_every_dtype_and_layout() {
    let space = CaseSpace::all(16);
    assert_passes(space.clone(), |c| zero_copy_view_writes_both_ways(c, &zero_copy));
    assert_passes(space.clone(), |c| element_addresses_agree(c, &zero_copy));
    assert_passes(space.clone(), |c| requires_grad_keeps_aliasing(c, &requires_grad));
    assert_passes(space, |c| overlapping_writes_refused(c, &copy_into));
}

#[test]
fn planted_copying_view_fails_and_shrinks() {
    let copying: &MakeView = &|b, l| deep_copy(&b.tensor(l)?).map_err(|e| ViewError::Tch(e.to_string()));
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::U8]), |c| zero_copy_view_writes_both_ways(c, copying));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }");
    assert_eq!(failure.message, "after writing 0xff through tensor[]: storage[0] is 0x00 but should be 0xff [u8, layout Layout { shape: [], strides: [], offset: 0 }]");
}

#[test]
fn planted_wrong_offset_fails_and_shrinks() {
    // Forgets the storage offset, as a view that starts at the buffer's first element would.
    let no_offset: &MakeView = &|b, l| b.tensor(&Layout { offset: 0, ..l.clone() });
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::I32]), |c| element_addresses_agree(c, no_offset));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: i32, shape: [], strides: [], offset: 1, storage: [0xffffffff = -1, 0x00000000 = 0] }"
    );
    assert_eq!(failure.message, "element[] is storage[0] in the tensor, storage[1] in the array, storage[1] by stride arithmetic [i32, layout Layout { shape: [], strides: [], offset: 1 }]");
}

#[test]
fn planted_cloning_requires_grad_fails_and_shrinks() {
    // What the article describes: requires_grad making the tensor independent of the array.
    let cloning: &RequiresGrad = &|v| deep_copy(v)?.f_set_requires_grad(true);
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F32]), |c| requires_grad_keeps_aliasing(c, cloning));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0.0] }"
    );
    assert_eq!(failure.signature, "requires_grad_ made the tensor independent of the array");
}

#[test]
fn planted_overlap_blind_write_fails_and_shrinks() {
    // Writes element by element, as a loop that ignores overlap would: the last write wins silently.
    let elementwise: &WriteInto = &|view, src| {
        let flat_src = src.f_reshape([-1])?;
        let n = flat_src.size()[0];
        let shape = view.size();
        for i in 0..n {
            let mut rest = i;
            let mut target = view.f_alias()?;
            let mut index = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            for &j in &index {
                target = target.f_select(0, j)?;
            }
            target.f_copy_(&flat_src.f_select(0, i)?)?;
        }
        Ok(())
    };
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::I16]), |c| overlapping_writes_refused(c, elementwise));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: i16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0] }"
    );
    assert_eq!(failure.signature, "write into an overlapping view accepted");
}

/// A view maker that changes the layout it is asked for with `change` before making the view.
fn relaid(change: fn(&mut Layout)) -> impl Fn(&SharedBuffer, &Layout) -> Result<Tensor, ViewError> + Send + Sync {
    move |b, l| {
        let mut l = l.clone();
        change(&mut l);
        b.tensor(&l)
    }
}

/// A positive stride of the last dimension one short: every element but those at index 0 of that dimension is
/// read from the wrong place (the first element is right).
fn last_stride_short(l: &mut Layout) {
    if let Some(s) = l.strides.last_mut().filter(|s| **s > 0) {
        *s -= 1;
    }
}

/// The same on the first of two or more dimensions.
fn first_stride_short(l: &mut Layout) {
    if l.rank() >= 2 && l.strides[0] > 0 {
        l.strides[0] -= 1;
    }
}

/// A view one element short in its last dimension.
fn last_side_short(l: &mut Layout) {
    if let Some(n) = l.shape.last_mut().filter(|n| **n > 0) {
        *n -= 1;
    }
}

fn copies_non_contiguous(b: &SharedBuffer, l: &Layout) -> Result<Tensor, ViewError> {
    let view = b.tensor(l)?;
    if l.is_c_contiguous() {
        return Ok(view);
    }
    deep_copy(&view).map_err(|e| ViewError::Tch(e.to_string()))
}

fn copies_bf16(b: &SharedBuffer, l: &Layout) -> Result<Tensor, ViewError> {
    let view = b.tensor(l)?;
    if b.dtype() != Dtype::Bf16 {
        return Ok(view);
    }
    deep_copy(&view).map_err(|e| ViewError::Tch(e.to_string()))
}

#[test]
fn planted_view_layout_defects_fail_writes_both_ways_and_shrink() {
    let no_offset = relaid(|l| l.offset = 0);
    let (last, first) = (relaid(last_stride_short), relaid(first_stride_short));
    let makers: [(&str, &MakeView, &str, &str); 5] = [
        (
            "offset ignored",
            &no_offset,
            "TensorCase { dtype: i16, shape: [], strides: [], offset: 1, storage: [0xffff = -1, 0x0000 = 0] }",
            "a write through the tensor does not land at the array's element",
        ),
        (
            "last stride one short",
            &last,
            "TensorCase { dtype: bf16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
            "tensor and array disagree",
        ),
        (
            "first stride one short",
            &first,
            "TensorCase { dtype: bf16, shape: [2, 1], strides: [1, 1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
            "tensor and array disagree",
        ),
        (
            "copies non-contiguous layouts",
            &copies_non_contiguous,
            "TensorCase { dtype: bf16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0.0] }",
            "a write through the tensor does not land at the array's element",
        ),
        (
            "copies bf16",
            &copies_bf16,
            "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
            "a write through the tensor does not land at the array's element",
        ),
    ];
    for (what, make, case, signature) in makers {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::Bf16, Dtype::I16]);
        assert_caught(what, space, |c| zero_copy_view_writes_both_ways(c, make), case, signature);
    }
}

#[test]
fn planted_view_layout_defects_fail_element_addresses_and_shrink() {
    let (last, first, short) = (relaid(last_stride_short), relaid(first_stride_short), relaid(last_side_short));
    let makers: [(&str, &MakeView, &str, &str); 5] = [
        (
            "last stride one short",
            &last,
            "TensorCase { dtype: bf16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
            "element addresses disagree",
        ),
        (
            "first stride one short",
            &first,
            "TensorCase { dtype: bf16, shape: [2, 1], strides: [1, 1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
            "element addresses disagree",
        ),
        (
            "last side one short",
            &short,
            "TensorCase { dtype: bf16, shape: [1], strides: [1], offset: 0, storage: [0x0000 = 0.0] }",
            "zero-copy view has the wrong shape",
        ),
        (
            "copies non-contiguous layouts",
            &copies_non_contiguous,
            "TensorCase { dtype: bf16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0.0] }",
            "element addresses disagree",
        ),
        (
            "copies bf16",
            &copies_bf16,
            "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
            "element addresses disagree",
        ),
    ];
    for (what, make, case, signature) in makers {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::Bf16, Dtype::I16]);
        assert_caught(what, space, |c| element_addresses_agree(c, make), case, signature);
    }
}

#[test]
fn planted_view_of_the_wrong_shape_fails_writes_both_ways_without_a_panic() {
    let short = relaid(last_side_short);
    assert_caught(
        "last side one short",
        CaseSpace::all(16).with_dtypes(&[Dtype::I16]),
        |c| zero_copy_view_writes_both_ways(c, &short),
        "TensorCase { dtype: i16, shape: [1], strides: [1], offset: 0, storage: [0x0000 = 0] }",
        "select failed",
    );
}

#[test]
fn planted_view_of_the_wrong_shape_is_a_failure_not_a_panic() {
    // Two elements, the view one short: the written element (index 0) exists, the second does not.
    let short = relaid(last_side_short);
    let case = TensorCase::contiguous(Dtype::I16, &[2], vec![0, 0]).unwrap();
    let verdict =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| zero_copy_view_writes_both_ways(&case, &short)));
    assert!(matches!(verdict, Ok(Err(conform_judge::CheckError::Fail(_)))), "{verdict:?}");
}

// requires_grad_.

#[test]
fn planted_requires_grad_defects_of_some_dtypes_or_layouts_fail_and_shrink() {
    let accepts_ints: &RequiresGrad = &|v| if v.is_floating_point() { requires_grad(v) } else { v.f_alias() };
    let no_flag: &RequiresGrad = &|v| v.f_alias();
    let refuses_bf16: &RequiresGrad = &|v| match v.f_kind()? {
        tch::Kind::BFloat16 => Err(TchError::Torch("planted: no gradients for bf16".into())),
        _ => requires_grad(v),
    };
    let clones_non_contiguous: &RequiresGrad =
        &|v| if v.is_contiguous() { requires_grad(v) } else { deep_copy(v)?.f_set_requires_grad(true) };
    let clones_from_three: &RequiresGrad =
        &|v| if v.numel() < 3 { requires_grad(v) } else { deep_copy(v)?.f_set_requires_grad(true) };
    let ops: [(&str, &RequiresGrad, &str, &str); 5] = [
        (
            "accepts integers",
            accepts_ints,
            "TensorCase { dtype: i8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }",
            "requires_grad_ accepted a non-float tensor",
        ),
        (
            "sets no flag",
            no_flag,
            "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
            "requires_grad_ did not set the flag",
        ),
        (
            "refuses bf16",
            refuses_bf16,
            "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
            "requires_grad_(true) on a float view failed",
        ),
        (
            "clones non-contiguous views",
            clones_non_contiguous,
            "TensorCase { dtype: bf16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0.0] }",
            "requires_grad_ made the tensor independent of the array",
        ),
        (
            "clones views of three elements or more",
            clones_from_three,
            "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
            "requires_grad_ made the tensor independent of the array",
        ),
    ];
    for (what, op, case, signature) in ops {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::Bf16, Dtype::F32, Dtype::I8]);
        assert_caught(what, space, |c| requires_grad_keeps_aliasing(c, op), case, signature);
    }
}

// Writes into views.

/// The real write, then element `position` of the view put back as it was: a write that misses one element.
fn misses(position: Position) -> impl Fn(&Tensor, &Tensor) -> Result<(), TchError> + Send + Sync {
    move |view, src| {
        let Some(k) = position.index(view.numel()) else { return copy_into(view, src) };
        let shape: Vec<usize> = view.size().iter().map(|&n| n as usize).collect();
        let index = Layout::contiguous(&shape).unravel(k);
        let mut target = element(view, &index)?;
        let before = deep_copy(&target)?;
        copy_into(view, src)?;
        target.f_copy_(&before)
    }
}

/// True when two indices of the view share an element (a stride 0 on a dimension of two or more).
fn overlapping(view: &Tensor) -> bool {
    view.size().iter().zip(view.stride()).any(|(&n, s)| n > 1 && s == 0)
}

#[test]
fn planted_write_missing_one_element_fails_and_shrinks() {
    let expected = [
        (
            Position::First,
            "TensorCase { dtype: u8, shape: [3], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0] }",
            "copy_ into a view wrote the wrong elements",
        ),
        (
            Position::Middle,
            "TensorCase { dtype: u8, shape: [3], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0] }",
            "copy_ into a view wrote the wrong elements",
        ),
        (
            Position::Last,
            "TensorCase { dtype: u8, shape: [3], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0] }",
            "copy_ into a view wrote the wrong elements",
        ),
    ];
    for (position, case, signature) in expected {
        let write = misses(position);
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::U8]);
        assert_caught(position.name(), space, |c| overlapping_writes_refused(c, &write), case, signature);
    }
}

#[test]
fn planted_write_defects_of_each_arm_fail_with_their_own_signature() {
    // Refuses an overlapping view, but only after writing its first element.
    let writes_then_refuses: &WriteInto = &|view, src| {
        if overlapping(view) {
            let mut first = element(view, &vec![0; view.dim()])?;
            first.f_copy_(&element(src, &vec![0; src.dim()])?)?;
            return Err(TchError::Torch("planted: overlapping".into()));
        }
        copy_into(view, src)
    };
    let refuses_non_contiguous: &WriteInto = &|view, src| {
        if view.is_contiguous() {
            copy_into(view, src)
        } else {
            Err(TchError::Torch("planted: not contiguous".into()))
        }
    };
    // Writes the source's values in the order of the view's addresses, not of its indices.
    let memory_order: &WriteInto = &|view, src| {
        if view.is_contiguous() || overlapping(view) {
            return copy_into(view, src);
        }
        let bits = tensor_bits(src).map_err(|e| TchError::Convert(e.to_string()))?;
        let strides = view.stride().iter().map(|&s| s as isize).collect();
        let addresses = Layout { shape: bits.shape.clone(), strides, offset: 0 }.addresses();
        let mut by_address: Vec<usize> = (0..addresses.len()).collect();
        by_address.sort_by_key(|&i| addresses[i]);
        let mut arranged = vec![0; addresses.len()];
        for (rank, &i) in by_address.iter().enumerate() {
            arranged[i] = bits.bits[rank];
        }
        copy_into(view, &tensor_of(bits.dtype, &bits.shape, arranged)?)
    };
    let writes: [(&str, &WriteInto, &str, &str); 3] = [
        (
            "writes, then refuses an overlapping view",
            writes_then_refuses,
            "TensorCase { dtype: i32, shape: [2], strides: [0], offset: 0, storage: [0x00000000 = 0] }",
            "refused write into overlapping view still changed storage",
        ),
        (
            "refuses non-contiguous views",
            refuses_non_contiguous,
            "TensorCase { dtype: i32, shape: [2], strides: [2], offset: 0, storage: [0x00000000 = 0, 0xffffffff = -1, 0x00000000 = 0] }",
            "copy_ into a non-overlapping view failed",
        ),
        (
            "writes in memory order",
            memory_order,
            "TensorCase { dtype: i32, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x00000000 = 0, 0x00000000 = 0, 0x00000000 = 0, 0x00000000 = 0] }",
            "copy_ into a view wrote the wrong elements",
        ),
    ];
    for (what, write, case, signature) in writes {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::I32]);
        assert_caught(what, space, |c| overlapping_writes_refused(c, write), case, signature);
    }
}

// Copying conversions.

#[test]
fn planted_aliasing_copy_fails_and_shrinks() {
    // A "copy" to array that hands out a view of the source.
    let aliasing = CopyOp {
        name: "view posing as copy",
        applies: |_| false,
        run: Box::new(|buffer, case| {
            let view = buffer.tensor(case.layout()).map_err(|e| e.to_string())?;
            let t = view.f_alias().map_err(|e| e.to_string())?;
            let address = t.data_ptr() as usize;
            Ok(Some(Copied { address, reread: Box::new(move || tensor_bits(&t).map(|b| b.bits)) }))
        }),
    };
    let (case, failure) = minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F64]), |c| {
        copying_conversions_never_alias(c, std::slice::from_ref(&aliasing))
    });
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }"
    );
    assert_eq!(failure.signature, "view posing as copy aliases its source");
}

#[test]
fn real_copies_pass_on_every_dtype_and_layout() {
    assert_passes(CaseSpace::all(16), |c| copying_conversions_never_alias(c, &copy_ops()));
}

/// A copy whose element at `position` is read live from the source: one element still aliases.
fn one_element_live(position: Position) -> CopyOp {
    CopyOp {
        name: position.name(),
        applies: |_| false,
        run: Box::new(move |buffer, case| {
            let Ok(view) = buffer.tensor(case.layout()) else { return Ok(None) };
            let copy = deep_copy(&view).map_err(|e| e.to_string())?;
            let address = copy.data_ptr() as usize;
            let k = position.index(case.numel());
            let reread = move || {
                let mut bits = tensor_bits(&copy)?.bits;
                if let Some(k) = k {
                    bits[k] = tensor_bits(&view)?.bits[k];
                }
                Ok(bits)
            };
            Ok(Some(Copied { address, reread: Box::new(reread) }))
        }),
    }
}

/// A "copy" that hands out the source itself where `aliases(case)` says.
fn aliases_where(name: &'static str, aliases: fn(&TensorCase) -> bool) -> CopyOp {
    CopyOp {
        name,
        applies: |_| false,
        run: Box::new(move |buffer, case| {
            let Ok(view) = buffer.tensor(case.layout()) else { return Ok(None) };
            let result = if aliases(case) { view.f_alias() } else { deep_copy(&view) };
            let t = result.map_err(|e| e.to_string())?;
            Ok(Some(Copied {
                address: t.data_ptr() as usize,
                reread: Box::new(move || tensor_bits(&t).map(|b| b.bits)),
            }))
        }),
    }
}

#[test]
fn planted_copy_with_one_live_element_fails_and_shrinks() {
    let expected = [
        (
            Position::First,
            "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
            "first element wrong result changes with its source",
        ),
        (
            Position::Middle,
            "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
            "middle element wrong result changes with its source",
        ),
        (
            Position::Last,
            "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
            "last element wrong result changes with its source",
        ),
    ];
    for (position, case, signature) in expected {
        let op = one_element_live(position);
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::F16]);
        assert_caught(
            position.name(),
            space,
            |c| copying_conversions_never_alias(c, std::slice::from_ref(&op)),
            case,
            signature,
        );
    }
}

#[test]
fn planted_copy_aliasing_one_dtype_or_layout_only_fails_and_shrinks() {
    let ops = [
        (
            aliases_where("aliases bf16", |c| c.dtype() == Dtype::Bf16),
            "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
            "aliases bf16 aliases its source",
        ),
        (
            aliases_where("aliases non-contiguous layouts", |c| !c.layout().is_c_contiguous()),
            "TensorCase { dtype: bf16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0.0] }",
            "aliases non-contiguous layouts aliases its source",
        ),
    ];
    for (op, case, signature) in ops {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::Bf16, Dtype::U8]);
        assert_caught(
            op.name,
            space,
            |c| copying_conversions_never_alias(c, std::slice::from_ref(&op)),
            case,
            signature,
        );
    }
}

// View ops: one planted defect per arm of the check.

#[test]
fn planted_copying_transpose_fails_and_shrinks() {
    let ops = [ViewOp {
        name: "transpose via contiguous",
        oracle: strides::transpose_first_last,
        run: |t| t.f_transpose(0, -1)?.f_contiguous(),
    }];
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::I8]), |c| view_ops_alias_copy_ops_do_not(c, &ops));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: i8, shape: [2, 2], strides: [2, 1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0, 0x00 = 0] }");
    assert_eq!(failure.signature, "transpose via contiguous: copied where a view is possible");
}

#[test]
fn real_ops_give_what_stride_arithmetic_predicts() {
    assert_passes(CaseSpace::all(16), |c| view_ops_alias_copy_ops_do_not(c, &view_ops()));
}

#[test]
fn planted_defect_of_each_view_op_arm_fails_with_its_own_signature() {
    let ops = [
        // A view that silently copies (only where the input is not contiguous, as `reshape` may).
        (
            ViewOp {
                name: "narrow that copies",
                oracle: strides::narrow_upper_half,
                run: |t| {
                    let n = t.size()[0];
                    deep_copy(&t.f_narrow(0, n / 2, n - n / 2)?)
                },
            },
            "TensorCase { dtype: i8, shape: [1], strides: [1], offset: 0, storage: [0x00 = 0] }",
            "narrow that copies: copied where a view is possible",
        ),
        // A copy that aliases: contiguous() handing back a non-contiguous input as it is.
        (
            ViewOp { name: "contiguous() that never copies", oracle: strides::contiguous, run: |t| t.f_alias() },
            "TensorCase { dtype: i8, shape: [2], strides: [0], offset: 0, storage: [0x00 = 0] }",
            "contiguous() that never copies: aliases where a copy is needed",
        ),
        // A view with the wrong strides: slice(0, step 2) that keeps the input's stride.
        (
            ViewOp {
                name: "slice(0, step 2) without the step",
                oracle: strides::slice_step_two,
                run: |t| {
                    let mut size = t.size();
                    size[0] = (size[0] + 1) / 2;
                    t.f_as_strided(size, t.stride(), None::<i64>)
                },
            },
            "TensorCase { dtype: i8, shape: [3], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0] }",
            "slice(0, step 2) without the step: view layout differs from stride arithmetic",
        ),
        // A view with the wrong offset: narrow to the lower half.
        (
            ViewOp {
                name: "narrow to the lower half",
                oracle: strides::narrow_upper_half,
                run: |t| {
                    let n = t.size()[0];
                    t.f_narrow(0, 0, n - n / 2)
                },
            },
            "TensorCase { dtype: i8, shape: [2], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0] }",
            "narrow to the lower half: view layout differs from stride arithmetic",
        ),
        // A view with the wrong shape: the new dimension at the end.
        (
            ViewOp { name: "unsqueeze(-1)", oracle: strides::unsqueeze_front, run: |t| t.f_unsqueeze(-1) },
            "TensorCase { dtype: i8, shape: [0], strides: [1], offset: 0, storage: [0xff = -1] }",
            "unsqueeze(-1): wrong shape",
        ),
        // A view of an unviewable layout that succeeds: view() that copies like reshape().
        (
            ViewOp { name: "view() that copies", oracle: strides::view_flat, run: |t| t.f_reshape([t.numel() as i64]) },
            "TensorCase { dtype: i8, shape: [2, 2], strides: [1, 0], offset: 0, storage: [0x00 = 0, 0x00 = 0] }",
            "view() that copies: a view of an unviewable layout succeeded",
        ),
        // An error where a view is possible: view() of contiguous inputs only.
        (
            ViewOp {
                name: "view() of contiguous inputs only",
                oracle: strides::view_flat,
                run: |t| {
                    if !t.is_contiguous() {
                        return Err(TchError::Torch("planted: view of a non-contiguous tensor".into()));
                    }
                    t.f_view([t.numel() as i64])
                },
            },
            "TensorCase { dtype: i8, shape: [2], strides: [2], offset: 0, storage: [0x00 = 0, 0xff = -1, 0x00 = 0] }",
            "view() of contiguous inputs only: failed",
        ),
        // A copy with the wrong values: reshape() copying the storage in memory order.
        (
            ViewOp {
                name: "reshape() copying in memory order",
                oracle: strides::reshape_flat,
                run: |t| match t.f_view([t.numel() as i64]) {
                    Ok(view) => Ok(view),
                    Err(_) => memory_ordered_tensor(t)?.f_reshape([t.numel() as i64]),
                },
            },
            "TensorCase { dtype: i8, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x00 = 0, 0x01 = 1, 0x00 = 0, 0x00 = 0] }",
            "reshape() copying in memory order: wrong values",
        ),
        // A copy with its last element wrong.
        (
            ViewOp {
                name: "contiguous() with the last element of a copy wrong",
                oracle: strides::contiguous,
                run: |t| {
                    let copy = t.f_contiguous()?;
                    if copy.data_ptr() == t.data_ptr() || t.numel() < 3 {
                        return Ok(copy);
                    }
                    crate::testing::corrupted(&copy, &crate::testing::Defect::at(Position::Last))?.f_reshape(t.size())
                },
            },
            "TensorCase { dtype: i8, shape: [3], strides: [0], offset: 0, storage: [0x00 = 0] }",
            "contiguous() with the last element of a copy wrong: wrong values",
        ),
    ];
    for (op, case, signature) in ops {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::I8]);
        assert_caught(
            op.name,
            space,
            |c| view_ops_alias_copy_ops_do_not(c, std::slice::from_ref(&op)),
            case,
            signature,
        );
    }
}

#[test]
fn planted_copy_that_never_applies_is_caught() {
    let never = CopyOp { name: "never applies", applies: |_| true, run: Box::new(|_, _| Ok(None)) };
    let (case, failure) = minimal_failure(CaseSpace::all(16).with_dtypes(&[Dtype::U8]), |c| {
        copying_conversions_never_alias(c, std::slice::from_ref(&never))
    });
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }");
    assert!(failure.signature.starts_with("never applies"), "{}", failure.signature);
}
