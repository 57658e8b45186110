//! Arithmetic across devices: the same cast and the IEEE basic ops give the same bits on the CPU and the device,
//! and transcendentals stay within conform's stated ulp bound on both (judged by `conform_judge`).

use conform_generators::{Dtype, TensorCase};
use conform_judge::casts::agree;
use conform_judge::ulps::{same_on_both, within_ulp_bound};
use conform_judge::{Tally, Verdict};
use tch::{TchError, Tensor};

use super::copies::source;
use super::Remote;
use crate::convert::{tch_fail, tensor_bits};
use crate::element::kind_of;

/// The check of `cast_cpu_matches_cuda`: the same float → float cast gives the same bits on the CPU and the
/// device; a difference names the side that is correctly rounded.
pub fn cast_same(case: &TensorCase, remote: &Remote) -> Verdict {
    let source_dtype = case.dtype();
    let source = source(case)?;
    let src = source.tensor();
    for target in Dtype::FLOATS.into_iter().filter(|&t| t != source_dtype) {
        let kind = kind_of(target);
        let cpu = src.f_to_kind(kind).map_err(|e| tch_fail("cpu to_kind", e))?;
        let dev = remote.run(src, |t| t.f_to_kind(kind)).map_err(|e| tch_fail("device to_kind", e))?;
        let (a, b) = (
            tensor_bits(&cpu).map_err(|e| tch_fail("read", e))?.bits,
            tensor_bits(&dev).map_err(|e| tch_fail("read", e))?.bits,
        );
        agree(case, target, ("cpu", &a), (&remote.name, &b))?;
    }
    Ok(())
}

type Op = fn(&Tensor, &Tensor) -> Result<Tensor, TchError>;

const BASIC: [(&str, Op); 5] = [
    ("add", |a, b| a.f_add(b)),
    ("sub", |a, b| a.f_sub(b)),
    ("mul", |a, b| a.f_mul(b)),
    ("div", |a, b| a.f_div(b)),
    ("sqrt", |a, _| a.f_sqrt()),
];

/// The second operand of a binary op: the case's values in reverse order, so every pair is drawn from the case.
fn second(src: &Tensor) -> Result<Tensor, TchError> {
    src.f_reshape([-1])?.f_flip([0])?.f_reshape(src.size())
}

/// The check of `basic_ops_cpu_matches_cuda`: add, sub, mul, div and sqrt, which IEEE requires to be correctly
/// rounded, give the same bits on the CPU and the device (NaN results compared as NaN; their bits are tabulated).
pub fn basic_ops_same(case: &TensorCase, remote: &Remote, tally: Option<&Tally>) -> Verdict {
    let source = source(case)?;
    let src = source.tensor();
    let other = second(src).map_err(|e| tch_fail("flip", e))?;
    for (name, op) in BASIC {
        let cpu = op(src, &other).map_err(|e| tch_fail(&format!("cpu {name}"), e))?;
        let dev = (remote.upload)(&other)
            .and_then(|o| remote.run(src, |a| op(a, &o)))
            .map_err(|e| tch_fail(&format!("{} {name}", remote.name), e))?;
        let (a, b) = (
            tensor_bits(&cpu).map_err(|e| tch_fail("read", e))?.bits,
            tensor_bits(&dev).map_err(|e| tch_fail("read", e))?.bits,
        );
        same_on_both(case, name, ("cpu", &a), (&remote.name, &b), tally)?;
    }
    Ok(())
}

type Unary = (&'static str, fn(&Tensor) -> Result<Tensor, TchError>, fn(f64) -> f64);

const TRANSCENDENTAL: [Unary; 4] = [
    ("exp", |t| t.f_exp(), f64::exp),
    ("log", |t| t.f_log(), f64::ln),
    ("sin", |t| t.f_sin(), f64::sin),
    ("tanh", |t| t.f_tanh(), f64::tanh),
];

/// The check of `transcendentals_within_ulp_bound`: exp, log, sin and tanh stay within
/// [`conform_judge::ulps::ulp_bound`] of an f64 reference on the CPU and on the device; the maximum error per
/// device, op and dtype is tabulated (in thousandths of an ulp).
pub fn transcendentals_within_bound(case: &TensorCase, remote: &Remote, tally: Option<&Tally>) -> Verdict {
    let source = source(case)?;
    let src = source.tensor();
    for (name, op, reference) in TRANSCENDENTAL {
        let cpu = op(src).map_err(|e| tch_fail(&format!("cpu {name}"), e))?;
        let dev = remote.run(src, op).map_err(|e| tch_fail(&format!("{} {name}", remote.name), e))?;
        for (device, out) in [("cpu", &cpu), (remote.name.as_str(), &dev)] {
            let bits = tensor_bits(out).map_err(|e| tch_fail("read", e))?.bits;
            within_ulp_bound(case, name, device, &bits, reference, tally)?;
        }
    }
    Ok(())
}
