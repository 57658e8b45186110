//! Where a case's values are put before the same question is asked of them: the placements, each a list of pieces
//! (a layout over a storage that repeats a pattern), made into tensors or arrays the same way for every placement;
//! and the process-wide lock on libtorch's thread count.
//!
//! Invariant: in every placement, logical position `p` holds value `p % n` of the case's `n` values (the one-element
//! placements hold one value per piece, in order; the others tile the values), and storage elements no index
//! addresses hold the filler, so a read from the wrong place shows. Placements are derived from the values alone,
//! so a shrunk case is the minimal values and the failure names the placements that disagree.

use std::sync::{Mutex, MutexGuard};

use conform_generators::values::filler;
use conform_generators::{Dtype, Layout, TensorCase};
use conform_judge::metamorphic::{Answer, Elements, Output};
use conform_judge::CheckError;
use tch::{Kind, TchError, Tensor};

use crate::convert::ConvertError;
use crate::element::{dtype_of, kind_of};

/// The fewest elements of a large placement: two of libtorch's parallel grains (`at::internal::GRAIN_SIZE` is
/// 32,768), so its vectorised loops run and its element-wise kernels split the work between threads.
pub const LARGE: usize = 65_536;

/// The libtorch intra-op thread count of the several-threads placements.
pub const SEVERAL_THREADS: i32 = 4;

/// How the values are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrangement {
    /// Each value alone in a 0-d tensor (one piece per value).
    ZeroDim,
    /// Each value alone in a tensor of shape `[1]` (one piece per value).
    OneElement,
    /// The values in a contiguous `[n]`.
    Contiguous,
    /// The values at every other element of a storage of `2n`, from offset 1: shape `[n]`, stride 2.
    EveryOther,
    /// A `[2, h]` view transposed from a contiguous `[h, 2]` (`h = ⌈n/2⌉`), holding the values tiled.
    Transposed,
    /// The values tiled into a contiguous tensor of at least [`LARGE`] elements.
    Large,
    /// The values tiled into every other element of a storage twice that size.
    LargeEveryOther,
}

impl Arrangement {
    /// The kind of placement, with no size in it: two answers of one layout under different thread counts are
    /// compared position by position.
    pub fn name(self) -> &'static str {
        match self {
            Arrangement::ZeroDim => "0-d",
            Arrangement::OneElement => "one-element",
            Arrangement::Contiguous => "contiguous",
            Arrangement::EveryOther => "every-other-element",
            Arrangement::Transposed => "transposed",
            Arrangement::Large => "large contiguous",
            Arrangement::LargeEveryOther => "large every-other-element",
        }
    }

    /// The pieces that hold `values` of `dtype` in this arrangement.
    pub fn pieces(self, dtype: Dtype, values: &[u64]) -> Vec<Piece> {
        let n = values.len();
        let f = filler(dtype);
        let every_other: Vec<u64> = values.iter().flat_map(|&v| [f, v]).collect();
        let copies = LARGE.div_ceil(n.max(1));
        // Offset 1 skips the first filler; an empty placement has no storage to skip into.
        let skip = usize::from(n > 0);
        let one = |shape: &[usize], strides: &[isize], offset, pattern: Vec<u64>, times| Piece {
            layout: Layout { shape: shape.to_vec(), strides: strides.to_vec(), offset },
            pattern,
            times,
        };
        match self {
            Arrangement::ZeroDim => values.iter().map(|&v| one(&[], &[], 0, vec![v], 1)).collect(),
            Arrangement::OneElement => values.iter().map(|&v| one(&[1], &[1], 0, vec![v], 1)).collect(),
            Arrangement::Contiguous => vec![one(&[n], &[1], 0, values.to_vec(), 1)],
            Arrangement::EveryOther => vec![one(&[n], &[2], skip, every_other, 1)],
            Arrangement::Transposed => {
                // base[j][i] (memory 2j + i) is view[i][j], logical position i*h + j.
                let h = n.div_ceil(2);
                let memory = (0..2 * h).map(|a| values[((a % 2) * h + a / 2) % n.max(1)]).collect();
                vec![one(&[2, h], &[1, 2], 0, if n == 0 { Vec::new() } else { memory }, 1)]
            }
            Arrangement::Large => vec![one(&[n * copies], &[1], 0, values.to_vec(), copies)],
            Arrangement::LargeEveryOther => vec![one(&[n * copies], &[2], skip, every_other, copies)],
        }
    }
}

/// One placement: an arrangement under a libtorch thread count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub arrangement: Arrangement,
    pub threads: i32,
}

const fn on(arrangement: Arrangement, threads: i32) -> Placement {
    Placement { arrangement, threads }
}

/// Every placement, the reference (0-d) first; the large contiguous one runs on one and on several threads.
pub const PLACEMENTS: [Placement; 8] = [
    on(Arrangement::ZeroDim, 1),
    on(Arrangement::OneElement, 1),
    on(Arrangement::Contiguous, 1),
    on(Arrangement::EveryOther, 1),
    on(Arrangement::Transposed, 1),
    on(Arrangement::Large, 1),
    on(Arrangement::Large, SEVERAL_THREADS),
    on(Arrangement::LargeEveryOther, SEVERAL_THREADS),
];

/// A layout over a storage that is `pattern` repeated `times`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub layout: Layout,
    pub pattern: Vec<u64>,
    pub times: usize,
}

impl Piece {
    pub fn numel(&self) -> usize {
        self.layout.shape.iter().product()
    }

    /// The piece as a CPU tensor of `dtype`: the storage goes to libtorch as bytes in one copy (the pattern's bytes
    /// repeated, not a loop over elements), and `as_strided` lays the layout over it.
    pub fn tensor(&self, dtype: Dtype) -> Result<Tensor, TchError> {
        let width = dtype.size_bytes();
        let pattern: Vec<u8> = self.pattern.iter().flat_map(|&b| b.to_le_bytes().into_iter().take(width)).collect();
        let storage = Tensor::f_from_data_size(
            &pattern.repeat(self.times),
            &[(self.pattern.len() * self.times) as i64],
            kind_of(dtype),
        )?;
        let shape: Vec<i64> = self.layout.shape.iter().map(|&n| n as i64).collect();
        let strides: Vec<i64> = self.layout.strides.iter().map(|&s| s as i64).collect();
        storage.f_as_strided(&shape, &strides, self.layout.offset as i64)
    }

    /// The piece as a case (for conversions that take an array over a case's storage and layout).
    pub fn case(&self, dtype: Dtype) -> TensorCase {
        TensorCase::new(dtype, self.layout.clone(), self.pattern.repeat(self.times))
            .expect("placements are valid layouts")
    }
}

/// The inputs of one placement, made once per case and handed to each operation in turn.
pub struct Placed<I> {
    pub placement: Placement,
    /// The shape of the (first) piece, for messages.
    pub shape: Vec<usize>,
    /// Elements over all pieces.
    pub len: usize,
    pub inputs: Vec<I>,
}

/// The case's values in every placement, each piece made into an input by `make` (a tensor, an array's case). With
/// no values, the one-value-at-a-time placements have no piece and are left out: they have nothing to answer.
pub fn place<I, E: std::fmt::Display>(
    dtype: Dtype,
    values: &[u64],
    make: impl Fn(&Piece) -> Result<I, E>,
) -> Result<Vec<Placed<I>>, CheckError> {
    PLACEMENTS
        .into_iter()
        .filter(|p| !values.is_empty() || !matches!(p.arrangement, Arrangement::ZeroDim | Arrangement::OneElement))
        .map(|placement| {
            let pieces = placement.arrangement.pieces(dtype, values);
            let inputs = pieces.iter().map(&make).collect::<Result<Vec<I>, E>>().map_err(|e| {
                CheckError::fail(
                    format!("making the {} input failed", placement.arrangement.name()),
                    format!(
                        "making the {} input failed: {}",
                        placement.arrangement.name(),
                        conform_judge::one_line(&e.to_string())
                    ),
                )
            })?;
            let shape = pieces.first().map_or_else(Vec::new, |p| p.layout.shape.clone());
            Ok(Placed { placement, shape, len: pieces.iter().map(Piece::numel).sum(), inputs })
        })
        .collect()
}

/// What one placement gave: the thread count it ran under, and its output (dtype and elements, concatenated over
/// its pieces) or the first error, as one line.
pub type Given<T> = (i32, Result<(Dtype, Vec<T>), String>);

/// Runs `run` on every piece of every placement under the placement's thread count. An error of `run` is that
/// placement's answer (a refusal, judged beside the others); pieces of one placement that come back with different
/// dtypes are a failure at once. Every placement has at least one piece (see [`place`]).
pub fn run_everywhere<I, T>(
    name: &str,
    placed: &[Placed<I>],
    threads: &ThreadCount,
    run: impl Fn(&I) -> Result<(Dtype, Vec<T>), String>,
) -> Result<Vec<Given<T>>, CheckError> {
    let mut given = Vec::with_capacity(placed.len());
    for p in placed {
        let observed = threads.set(p.placement.threads);
        let mut all: Option<(Dtype, Vec<T>)> = None;
        let mut refused = None;
        for input in &p.inputs {
            let (dtype, out) = match run(input) {
                Ok(out) => out,
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            };
            match &mut all {
                None => all = Some((dtype, out)),
                Some((first, so_far)) if *first == dtype => so_far.extend(out),
                Some((first, _)) => {
                    return Err(CheckError::fail(
                        format!("{name}: the output dtype depends on the placement"),
                        format!("{name} gives {dtype} for one element alone but {first} for another"),
                    ))
                }
            }
        }
        let out = match (refused, all) {
            (Some(e), _) => Err(e),
            (None, Some(all)) => Ok(all),
            (None, None) => Err(format!("{} has no piece to ask", p.placement.arrangement.name())),
        };
        given.push((observed, out));
    }
    Ok(given)
}

/// The answers for the judge, pairing each placement with what it gave.
pub fn answers<'a, I, T>(
    placed: &'a [Placed<I>],
    given: &'a [Given<T>],
    elements: fn(&'a [T]) -> Elements<'a>,
) -> Vec<Answer<'a>> {
    placed
        .iter()
        .zip(given)
        .map(|(p, (threads, out))| Answer {
            layout: p.placement.arrangement.name(),
            shape: &p.shape,
            threads: *threads,
            len: p.len,
            out: match out {
                Ok((dtype, values)) => Ok(Output { dtype: *dtype, elements: elements(values) }),
                Err(e) => Err(e.clone()),
            },
        })
        .collect()
}

/// A tensor's dtype and its elements as raw little-endian bytes in row-major order (one copy out of libtorch, no
/// loop over elements: the large placements are read this way).
pub fn raw_bytes(tensor: &Tensor) -> Result<(Dtype, Vec<u8>), ConvertError> {
    let kind: Kind = tensor.f_kind()?;
    let dtype = dtype_of(kind).ok_or(ConvertError::UnknownKind(kind))?;
    let numel = tensor.numel();
    let mut bytes = vec![0u8; numel * dtype.size_bytes()];
    tensor.f_contiguous()?.f_copy_data_u8(&mut bytes, numel)?;
    Ok((dtype, bytes))
}

/// Serialises checks that change libtorch's intra-op thread count: `set_num_threads` is process-wide and
/// libtest-mimic runs trials on parallel threads, so a check holds this for its whole duration.
static THREAD_COUNT: Mutex<()> = Mutex::new(());

/// The held lock on libtorch's thread count; dropping it restores the count it found.
pub struct ThreadCount {
    previous: i32,
    _held: MutexGuard<'static, ()>,
}

impl ThreadCount {
    /// Waits for the lock (a check that panicked while holding it left nothing to protect: the count is restored
    /// on drop, panicking or not), then asks for one thread, so that what the check does before it chooses a count
    /// (making its inputs) runs on one thread.
    pub fn hold() -> ThreadCount {
        let held = THREAD_COUNT.lock().unwrap_or_else(|e| e.into_inner());
        let count = ThreadCount { previous: tch::get_num_threads(), _held: held };
        count.set(1);
        count
    }

    /// Asks libtorch for `threads` and returns the count it reports now (with the OpenMP backend the request
    /// applies to the calling thread's parallel regions, which is where the check runs its operations).
    pub fn set(&self, threads: i32) -> i32 {
        if tch::get_num_threads() != threads {
            tch::set_num_threads(threads);
        }
        tch::get_num_threads()
    }
}

impl Drop for ThreadCount {
    fn drop(&mut self) {
        tch::set_num_threads(self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::tensor_bits;

    #[test]
    fn every_placement_holds_the_values_tiled_in_logical_order() {
        for n in [1usize, 2, 3, 7] {
            let values: Vec<u64> = (1..=n as u64).collect();
            for p in PLACEMENTS {
                let pieces = p.arrangement.pieces(Dtype::I16, &values);
                let mut logical = Vec::new();
                for piece in &pieces {
                    let t = piece.tensor(Dtype::I16).unwrap();
                    let bits = tensor_bits(&t).unwrap().bits;
                    assert_eq!(bits, piece.case(Dtype::I16).logical(), "{p:?}");
                    assert_eq!(raw_bytes(&t).unwrap().1.len(), 2 * piece.numel());
                    logical.extend(bits);
                }
                assert!(logical.len() >= n, "{p:?}");
                assert!(logical.iter().enumerate().all(|(i, &b)| b == values[i % n]), "{p:?} n={n}: {logical:?}");
                if p.arrangement.name().starts_with("large") {
                    assert!(logical.len() >= LARGE);
                }
            }
        }
    }

    #[test]
    fn views_are_the_layouts_they_claim() {
        let values = [1, 2, 3];
        let strided = &Arrangement::EveryOther.pieces(Dtype::U8, &values)[0];
        assert_eq!(strided.pattern, vec![0xff, 1, 0xff, 2, 0xff, 3]);
        let t = strided.tensor(Dtype::U8).unwrap();
        assert_eq!((t.size(), t.stride(), t.is_contiguous()), (vec![3], vec![2], false));
        let transposed = Arrangement::Transposed.pieces(Dtype::U8, &values)[0].tensor(Dtype::U8).unwrap();
        assert_eq!(
            (transposed.size(), transposed.stride(), transposed.is_contiguous()),
            (vec![2, 2], vec![1, 2], false)
        );
        assert_eq!(tensor_bits(&transposed).unwrap().bits, vec![1, 2, 3, 1]);
        let zero_d = Arrangement::ZeroDim.pieces(Dtype::U8, &values);
        assert_eq!(zero_d.len(), 3);
        assert_eq!(zero_d[2].tensor(Dtype::U8).unwrap().size(), Vec::<i64>::new());
        assert_eq!(place(Dtype::U8, &[], |p| p.tensor(Dtype::U8)).unwrap().len(), PLACEMENTS.len() - 2);
        for p in PLACEMENTS {
            for piece in p.arrangement.pieces(Dtype::U8, &[]) {
                assert_eq!((piece.tensor(Dtype::U8).unwrap().numel(), piece.case(Dtype::U8).numel()), (0, 0), "{p:?}");
            }
        }
    }

    #[test]
    fn the_thread_count_changes_and_is_restored() {
        let before = tch::get_num_threads();
        {
            let held = ThreadCount::hold();
            assert_eq!(held.set(SEVERAL_THREADS), SEVERAL_THREADS, "libtorch must let conform change its thread count");
            assert_eq!(held.set(1), 1);
            held.set(SEVERAL_THREADS);
        }
        assert_eq!(tch::get_num_threads(), before);
    }
}
