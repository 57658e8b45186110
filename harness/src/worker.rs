//! The worker side of crash isolation: `conform worker --progress FILE` (a hidden subcommand) reads requests as
//! JSON lines on stdin, runs each in this process, and answers with JSON lines on stdout. Before each case it writes
//! the case's index into the progress file (one positioned write, no parsing), so that when libtorch aborts or
//! segfaults this process, the parent knows which case was in flight.
//!
//! Invariant: the worker never forks; it is a fresh `conform` process that the parent started (`fork()` after
//! libtorch has started its OpenMP runtime is not safe). One request runs at a time.

use std::fs::File;
use std::io::{BufRead, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use conform_generators::search::Observer;
use conform_generators::Case;
use conform_properties::{CheckError, Property, Verdict};
use serde::{Deserialize, Serialize};

use crate::engine::{run_check, search_here, SearchJob, Searched};

/// A request to a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Search { property: String, job: SearchJob },
    Check { property: String, case: Case },
    /// Answered with `Ready` once the worker has started (libtorch loaded): the parent starts a worker before a
    /// property's clock starts, so start-up is not charged to the property's share of the budget.
    Ping,
}

/// A verdict in its serde form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    Pass,
    Reject(String),
    Fail { signature: String, message: String },
}

impl From<Verdict> for Checked {
    fn from(v: Verdict) -> Checked {
        match v {
            Ok(()) => Checked::Pass,
            Err(CheckError::Reject(why)) => Checked::Reject(why),
            Err(CheckError::Fail(f)) => Checked::Fail { signature: f.signature, message: f.message },
        }
    }
}

impl From<Checked> for Verdict {
    fn from(c: Checked) -> Verdict {
        match c {
            Checked::Pass => Ok(()),
            Checked::Reject(why) => Err(CheckError::Reject(why)),
            Checked::Fail { signature, message } => Err(CheckError::fail(signature, message)),
        }
    }
}

/// A worker's answer; `Progress` lines may come before a `Searched`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Progress {
        done: u32,
    },
    Searched(Box<Searched>),
    Checked(Checked),
    /// The request could not be run (an unknown property: the parent and worker binaries differ).
    Refused(String),
    /// The answer to `Ping`.
    Ready,
}

/// What the progress file says: the phase, the case index and the cases done, as three little-endian u32s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub phase: Phase,
    pub index: u32,
    pub done: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle = 0,
    /// Checking case `index` of a search.
    Searching = 1,
    /// Shrinking the failure of case `index`.
    Shrinking = 2,
    /// Checking the case of a `check` request.
    Checking = 3,
}

impl Mark {
    pub const BYTES: usize = 12;

    pub fn encode(self) -> [u8; Mark::BYTES] {
        let mut out = [0u8; Mark::BYTES];
        out[..4].copy_from_slice(&(self.phase as u32).to_le_bytes());
        out[4..8].copy_from_slice(&self.index.to_le_bytes());
        out[8..].copy_from_slice(&self.done.to_le_bytes());
        out
    }

    /// Reads a mark back; `None` for a file too short or a phase no worker writes.
    pub fn decode(bytes: &[u8]) -> Option<Mark> {
        let word = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
        let phase = match word(0)? {
            0 => Phase::Idle,
            1 => Phase::Searching,
            2 => Phase::Shrinking,
            3 => Phase::Checking,
            _ => return None,
        };
        Some(Mark { phase, index: word(4)?, done: word(8)? })
    }
}

/// Serves requests until stdin closes. Errors are the pipes' (the parent went away).
pub fn serve(progress: &Path) -> std::io::Result<()> {
    conform_properties::init_libtorch(1);
    // One check at a time on this thread: the files family may bound each read's address space (RLIMIT_AS).
    conform_properties::files::enforce_in_this_process();
    let file = File::create(progress)?;
    let properties = crate::selftest::registry();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let answer = match serde_json::from_str::<Request>(&line) {
            Err(e) => Response::Refused(format!("not a request: {e}")),
            Ok(request) => run(&properties, request, &file, &mut out)?,
        };
        writeln!(out, "{}", serde_json::to_string(&answer).expect("a response serialises"))?;
        out.flush()?;
        file.write_at(&Mark { phase: Phase::Idle, index: 0, done: 0 }.encode(), 0)?;
    }
    Ok(())
}

fn run(properties: &[Property], request: Request, file: &File, out: &mut impl Write) -> std::io::Result<Response> {
    let name = match &request {
        Request::Search { property, .. } | Request::Check { property, .. } => property.clone(),
        Request::Ping => return Ok(Response::Ready),
    };
    let Some(property) = properties.iter().find(|p| p.name == name) else {
        return Ok(Response::Refused(format!("no property `{name}` in this worker")));
    };
    Ok(match request {
        Request::Check { case, .. } => {
            file.write_at(&Mark { phase: Phase::Checking, index: 0, done: 0 }.encode(), 0)?;
            Response::Checked(run_check(property, &case).into())
        }
        Request::Search { job, .. } => {
            let mut marks = Marks { file, out, done: 0, last_progress: Instant::now(), error: None };
            let searched = search_here(property, &job, &mut marks);
            if let Some(e) = marks.error {
                return Err(e);
            }
            Response::Searched(Box::new(searched))
        }
        Request::Ping => Response::Ready,
    })
}

/// Writes the mark before each case, and a progress line now and then.
struct Marks<'a, W: Write> {
    file: &'a File,
    out: &'a mut W,
    done: u32,
    last_progress: Instant,
    error: Option<std::io::Error>,
}

impl<W: Write> Marks<'_, W> {
    fn mark(&mut self, phase: Phase, index: u32) {
        if let Err(e) = self.file.write_at(&Mark { phase, index, done: self.done }.encode(), 0) {
            self.error.get_or_insert(e);
        }
    }
}

impl<W: Write> Observer<Case> for Marks<'_, W> {
    fn starting(&mut self, index: u32) {
        self.mark(Phase::Searching, index);
    }

    fn checked(&mut self, done: u32, _case: &Case) {
        self.done = done;
        if self.last_progress.elapsed() >= Duration::from_millis(200) {
            self.last_progress = Instant::now();
            let line = serde_json::to_string(&Response::Progress { done }).expect("a response serialises");
            if let Err(e) = writeln!(self.out, "{line}").and_then(|()| self.out.flush()) {
                self.error.get_or_insert(e);
            }
        }
    }

    fn shrinking(&mut self, index: u32) {
        self.mark(Phase::Shrinking, index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_garbage_is_none() {
        let m = Mark { phase: Phase::Shrinking, index: 7, done: 6 };
        assert_eq!(Mark::decode(&m.encode()), Some(m));
        assert_eq!(Mark::decode(&[1, 0, 0]), None);
        assert_eq!(Mark::decode(&[9; 12]), None);
    }

    #[test]
    fn verdicts_survive_the_pipe() {
        for v in [Ok(()), Err(CheckError::Reject("r".into())), Err(CheckError::fail("s", "m"))] {
            let c: Checked = v.clone().into();
            let back: Checked = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
            assert_eq!(Verdict::from(back), v);
        }
    }
}
