//! View ops alias and copy ops do not: each libtorch op under test, paired with the stride-arithmetic oracle of
//! `conform_judge::strides` that predicts its result from the layout alone, and the check that holds the op to it.
//!
//! Invariant: an oracle never consults libtorch; an op whose oracle returns `None` for a layout is not run on it.

use conform_generators::{Layout, TensorCase};
use conform_judge::strides::{self, Expect};
use conform_judge::{one_line, CheckError, Verdict};
use tch::{TchError, Tensor};

use super::{view_of, zero_copy};
use crate::convert::{tch_fail, tensor_bits};

/// An op under test with its oracle; `oracle` returns `None` when the op does not apply to the layout.
pub struct ViewOp {
    pub name: &'static str,
    pub oracle: fn(&Layout) -> Option<Expect>,
    pub run: fn(&Tensor) -> Result<Tensor, TchError>,
}

/// The ops conform checks, each with its stride-arithmetic oracle.
pub fn view_ops() -> Vec<ViewOp> {
    vec![
        ViewOp { name: "reshape([numel])", oracle: strides::reshape_flat, run: |t| t.f_reshape([t.numel() as i64]) },
        ViewOp { name: "view([numel])", oracle: strides::view_flat, run: |t| t.f_view_([t.numel() as i64]) },
        ViewOp { name: "transpose(0, -1)", oracle: strides::transpose_first_last, run: |t| t.f_transpose(0, -1) },
        ViewOp {
            name: "permute(reversed)",
            oracle: strides::permute_reversed,
            run: |t| t.f_permute((0..t.dim() as i64).rev().collect::<Vec<_>>()),
        },
        ViewOp {
            name: "narrow(0, n/2, n - n/2)",
            oracle: strides::narrow_upper_half,
            run: |t| {
                let n = t.size()[0];
                t.f_narrow(0, n / 2, n - n / 2)
            },
        },
        ViewOp { name: "slice(0, step 2)", oracle: strides::slice_step_two, run: |t| t.f_slice(0, 0, t.size()[0], 2) },
        ViewOp { name: "select(0, 0)", oracle: strides::select_first, run: |t| t.f_select(0, 0) },
        ViewOp {
            name: "expand([2, ...])",
            oracle: strides::expand_front,
            run: |t| t.f_expand([&[2][..], &t.size()[..]].concat(), false),
        },
        ViewOp { name: "unsqueeze(0)", oracle: strides::unsqueeze_front, run: |t| t.f_unsqueeze(0) },
        ViewOp { name: "squeeze()", oracle: strides::squeeze_all, run: |t| t.f_squeeze() },
        ViewOp {
            name: "as_strided(same)",
            oracle: strides::same,
            run: |t| t.f_as_strided(t.size(), t.stride(), None::<i64>),
        },
        ViewOp { name: "detach()", oracle: strides::same, run: |t| t.f_detach() },
        ViewOp { name: "to_kind(same kind)", oracle: strides::same, run: |t| t.f_to_kind(t.f_kind()?) },
        ViewOp { name: "to(same device)", oracle: strides::same, run: |t| t.f_to(tch::Device::Cpu) },
        ViewOp { name: "contiguous()", oracle: strides::contiguous, run: |t| t.f_contiguous() },
    ]
}

/// Each op gives what the stride arithmetic predicts — a view with exactly the predicted layout over the same
/// storage, a copy outside it, or an error — and the values the predicted layout addresses.
pub fn view_ops_alias_copy_ops_do_not(case: &TensorCase, ops: &[ViewOp]) -> Verdict {
    let (buffer, view) = view_of(case, &zero_copy)?;
    let dtype = case.dtype();
    for op in ops {
        let Some(expect) = (op.oracle)(case.layout()) else { continue };
        let at = || format!("[{}, {dtype}, layout {:?}]", op.name, case.layout());
        let result = (op.run)(&view);
        let fail = |what: &str, detail: String| {
            Err(CheckError::fail(format!("{}: {what}", op.name), format!("{detail} {}", at())))
        };
        let t = match (result, &expect) {
            (Err(_), Expect::Error) => continue,
            (Ok(_), Expect::Error) => {
                return fail("a view of an unviewable layout succeeded", "expected an error, got a tensor".into())
            }
            (Err(e), _) => return fail("failed", format!("failed: {}", one_line(&e.to_string()))),
            (Ok(r), _) => r,
        };
        let shape: Vec<usize> = t.size().iter().map(|&n| n as usize).collect();
        let (want_shape, addresses) = match &expect {
            Expect::View(l) => (l.shape.clone(), l.addresses()),
            Expect::Copy { shape, addresses } => (shape.clone(), addresses.clone()),
            Expect::Error => unreachable!("handled above"),
        };
        if shape != want_shape {
            return fail("wrong shape", format!("shape {shape:?}, expected {want_shape:?}"));
        }
        if addresses.is_empty() {
            continue;
        }
        let inside = buffer.contains_address(t.data_ptr() as usize);
        match (&expect, inside) {
            (Expect::View(l), true) => {
                let offset = (t.data_ptr() as usize - buffer.base_address()) / dtype.size_bytes();
                let strides = t.stride();
                let differs = (0..l.rank()).any(|d| l.shape[d] > 1 && strides[d] != l.strides[d] as i64);
                if offset != l.offset || differs {
                    return fail(
                        "view layout differs from stride arithmetic",
                        format!(
                            "offset {offset} strides {strides:?}, expected offset {} strides {:?}",
                            l.offset, l.strides
                        ),
                    );
                }
            }
            (Expect::View(_), false) => {
                return fail("copied where a view is possible", "result does not alias the array".into())
            }
            (Expect::Copy { .. }, true) => {
                return fail("aliases where a copy is needed", "result aliases the array".into())
            }
            (Expect::Copy { .. }, false) => {}
            (Expect::Error, _) => unreachable!("handled above"),
        }
        let got = tensor_bits(&t).map_err(|e| tch_fail("read", e))?.bits;
        let storage = buffer.snapshot();
        let want: Vec<u64> = addresses.iter().map(|&a| storage[a]).collect();
        if got != want {
            let k = (0..want.len()).find(|&k| got[k] != want[k]).unwrap_or(0);
            return fail(
                "wrong values",
                format!("out[{k}] is {} but should be {}", dtype.hex(got[k]), dtype.hex(want[k])),
            );
        }
    }
    Ok(())
}
