//! Copies between the CPU and a device: the round trip gives the array back bit for bit by every path, and the
//! device copy is new storage.

use conform_generators::TensorCase;
use conform_judge::{CheckError, Verdict};
use tch::Tensor;

use super::{Move, Remote};
use crate::convert::{tch_fail, tensor_bits, CaseTensor};
use crate::element::kind_of;
use crate::shared::same_array;

pub(super) fn source(case: &TensorCase) -> Result<CaseTensor, CheckError> {
    CaseTensor::shared(case).map_err(|e| tch_fail("source tensor", e))
}

/// `back`, read from the device, must be the case's array exactly.
fn came_back(case: &TensorCase, back: &Tensor, path: &str) -> Verdict {
    let got = tensor_bits(back).map_err(|e| tch_fail("read back", e))?;
    same_array(case, &got, path)
}

/// The check of `cuda_round_trip_bit_exact`: CPU → device → CPU gives the array back bit for bit, by every copy
/// path.
pub fn round_trip_bit_exact(case: &TensorCase, remote: &Remote) -> Verdict {
    let source = source(case)?;
    let src = source.tensor();
    let paths: [(&str, &Move); 2] = [("blocking", &remote.upload), ("pinned non_blocking", &remote.upload_pinned)];
    for (how, upload) in paths {
        let path = format!("cpu→{}→cpu ({how})", remote.name);
        let back = upload(src).and_then(|d| (remote.download)(&d)).map_err(|e| tch_fail(&path, e))?;
        came_back(case, &back, &path)?;
    }
    if let Some(peer) = &remote.peer {
        let path = format!("cpu→{0}→peer→{0}→cpu", remote.name);
        let back = (remote.upload)(src)
            .and_then(|d| peer(&d))
            .and_then(|d| (remote.download)(&d))
            .map_err(|e| tch_fail(&path, e))?;
        came_back(case, &back, &path)?;
    }
    Ok(())
}

/// The check of `cuda_copy_is_new_storage`: the device copy keeps dtype and shape and lives in new storage:
/// overwriting the source afterwards does not change it.
pub fn copy_is_new_storage(case: &TensorCase, remote: &Remote) -> Verdict {
    let source = source(case)?;
    let (src, buffer) = (source.tensor(), source.buffer());
    let on_device = (remote.upload)(src).map_err(|e| tch_fail("upload", e))?;
    let (kind, size) = (on_device.f_kind().map_err(|e| tch_fail("kind", e))?, on_device.size());
    if kind != kind_of(case.dtype()) || size != src.size() {
        return Err(CheckError::fail(
            "device copy changed dtype or shape",
            format!("{} copy is {kind:?} {size:?}, source {:?} {:?}", remote.name, kind_of(case.dtype()), src.size()),
        ));
    }
    if let Some(buffer) = &buffer {
        if case.numel() > 0 && buffer.contains_address(on_device.data_ptr() as usize) {
            return Err(CheckError::fail(
                "device copy aliases the source",
                format!("{} copy starts inside the source array [{}]", remote.name, case.dtype()),
            ));
        }
        for i in 0..buffer.len() {
            buffer.set(i, !buffer.get(i) & case.dtype().mask());
        }
    }
    let back = (remote.download)(&on_device).map_err(|e| tch_fail("download", e))?;
    came_back(case, &back, &format!("{} copy after the source was overwritten", remote.name))
}
