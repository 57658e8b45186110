//! The parent side of crash isolation: [`Workers`] runs checks and searches in a `conform worker` process started
//! from this binary (never `fork()`: libtorch's OpenMP runtime is not fork-safe, PyTorch #41197). A worker that dies
//! by a signal, exits, or runs one case longer than the case timeout is a [`Death`]: the parent reads which case was
//! in flight from the worker's progress file and the tail of its stderr, and the next request starts a fresh
//! worker. One process start per worker, plus one per death; none per case.
//!
//! Invariant: the parent never runs a check itself; everything that touches libtorch happens in a worker.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use conform_generators::Case;
use conform_properties::{Property, Verdict};

use crate::engine::{Death, Died, Engine, SearchJob, Searched};
use crate::worker::{Mark, Phase, Request, Response};

/// How often the parent looks at a busy worker's progress file.
const POLL: Duration = Duration::from_millis(100);

/// Checks and searches in worker processes of `exe` (this binary, or `CARGO_BIN_EXE_conform` in tests).
#[derive(Debug)]
pub struct Workers {
    exe: PathBuf,
    /// A case that runs longer than this kills its worker (`--case-timeout`); `None`: no limit.
    case_timeout: Option<Duration>,
    process: Option<Process>,
    /// Worker processes started, deaths included.
    pub started: u32,
}

#[derive(Debug)]
struct Process {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    progress: File,
    stderr: PathBuf,
    files: [PathBuf; 2],
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// What waiting for an answer gave.
enum Waited {
    Answer(Response),
    Died { mark: Option<Mark>, death: Death },
}

impl Workers {
    pub fn new(exe: impl Into<PathBuf>, case_timeout: Option<Duration>) -> Workers {
        Workers { exe: exe.into(), case_timeout, process: None, started: 0 }
    }

    /// The running worker, started if there is none.
    fn process(&mut self) -> std::io::Result<&mut Process> {
        if self.process.is_none() {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let base = std::env::temp_dir().join(format!("conform-worker-{}-{n}", std::process::id()));
            let (progress_path, stderr_path) = (base.with_extension("progress"), base.with_extension("stderr"));
            let progress = File::options().read(true).write(true).create(true).truncate(true).open(&progress_path)?;
            let stderr = File::create(&stderr_path)?;
            let mut child = Command::new(&self.exe)
                .arg("worker")
                .arg("--progress")
                .arg(&progress_path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(stderr))
                .spawn()?;
            let stdin = child.stdin.take().expect("piped stdin");
            let stdout = child.stdout.take().expect("piped stdout");
            let (send, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
            self.started += 1;
            self.process = Some(Process {
                child,
                stdin,
                lines,
                progress,
                stderr: stderr_path.clone(),
                files: [progress_path, stderr_path],
            });
        }
        Ok(self.process.as_mut().expect("just started"))
    }

    /// Sends `request` and waits for its answer, forwarding progress; a death ends the worker.
    fn ask(&mut self, request: &Request, progress: &mut dyn FnMut(u32)) -> Waited {
        let case_timeout = self.case_timeout;
        let process = match self.process() {
            Ok(p) => p,
            Err(e) => {
                return Waited::Died {
                    mark: None,
                    death: Death {
                        signature: "crash: the worker could not start".into(),
                        message: format!("cannot start `conform worker`: {e}"),
                    },
                }
            }
        };
        let line = serde_json::to_string(request).expect("a request serialises");
        let sent = writeln!(process.stdin, "{line}").and_then(|()| process.stdin.flush());
        let waited = match sent {
            Err(_) => process.death(None),
            Ok(()) => process.wait_answer(case_timeout, progress),
        };
        if matches!(waited, Waited::Died { .. }) {
            self.process = None;
        }
        waited
    }
}

impl Process {
    fn mark(&self) -> Option<Mark> {
        let mut bytes = [0u8; Mark::BYTES];
        self.progress.read_exact_at(&mut bytes, 0).ok()?;
        Mark::decode(&bytes)
    }

    fn wait_answer(&mut self, case_timeout: Option<Duration>, progress: &mut dyn FnMut(u32)) -> Waited {
        let mut last = (self.mark(), Instant::now());
        loop {
            match self.lines.recv_timeout(POLL) {
                Ok(line) => match serde_json::from_str::<Response>(&line) {
                    Ok(Response::Progress { done }) => progress(done),
                    Ok(answer) => return Waited::Answer(answer),
                    Err(e) => {
                        return Waited::Answer(Response::Refused(format!("unreadable answer from the worker: {e}")))
                    }
                },
                Err(RecvTimeoutError::Timeout) => {
                    let mark = self.mark();
                    // The clock runs only while a case is in flight: not while the worker starts (loading libtorch
                    // takes a while) or between requests (the mark is then `Idle`).
                    let idle = mark.is_none_or(|m| m.phase == Phase::Idle);
                    if mark != last.0 || idle {
                        last = (mark, Instant::now());
                    } else if let Some(limit) = case_timeout.filter(|&t| last.1.elapsed() > t) {
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        let signature = format!("timeout: a case ran longer than {}", seconds(limit));
                        let message = format!("{signature}; worker stderr: {}", self.stderr_tail());
                        return Waited::Died { mark, death: Death { signature, message } };
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let mark = self.mark();
                    return self.death(mark);
                }
            }
        }
    }

    /// The worker ended (or its pipe broke): how, as a death.
    fn death(&mut self, mark: Option<Mark>) -> Waited {
        let status = self.child.wait();
        let signature = match status {
            Ok(s) => match (s.signal(), s.code()) {
                (Some(signal), _) => format!("crash: killed by {}", signal_name(signal)),
                (None, Some(code)) => format!("crash: the worker exited with status {code}"),
                (None, None) => "crash: the worker ended".into(),
            },
            Err(e) => format!("crash: cannot wait for the worker: {}", e.kind()),
        };
        let message = format!("{signature}; worker stderr: {}", self.stderr_tail());
        Waited::Died { mark: mark.or_else(|| self.mark()), death: Death { signature, message } }
    }

    /// The last few hundred bytes of the worker's stderr, on one line.
    fn stderr_tail(&self) -> String {
        const TAIL: u64 = 600;
        let Ok(mut file) = File::open(&self.stderr) else { return "(unreadable)".into() };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
        let mut bytes = Vec::new();
        let _ = file.take(TAIL).read_to_end(&mut bytes);
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if lines.is_empty() {
            "(empty)".into()
        } else {
            lines.join(" | ").escape_debug().to_string()
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The conventional name of a signal number (Linux numbering).
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        other => return format!("signal {other}"),
    };
    name.into()
}

impl Engine for Workers {
    fn warm_up(&mut self) {
        let _ = self.ask(&Request::Ping, &mut |_| {});
    }

    fn check(&mut self, property: &Property, case: &Case) -> Verdict {
        let request = Request::Check { property: property.name.to_string(), case: case.clone() };
        match self.ask(&request, &mut |_| {}) {
            Waited::Answer(Response::Checked(c)) => c.into(),
            Waited::Answer(other) => Err(conform_properties::CheckError::fail(
                "worker refused the request",
                format!("the worker did not check the case: {other:?}"),
            )),
            Waited::Died { death, .. } => Err(conform_properties::CheckError::Fail(death.failure())),
        }
    }

    fn search(
        &mut self,
        property: &Property,
        job: &SearchJob,
        progress: &mut dyn FnMut(u32),
    ) -> Result<Searched, Died> {
        let request = Request::Search { property: property.name.to_string(), job: job.clone() };
        match self.ask(&request, progress) {
            Waited::Answer(Response::Searched(s)) => Ok(*s),
            Waited::Answer(other) => Err(Died {
                index: None,
                shrinking: false,
                done: 0,
                death: Death {
                    signature: "worker refused the request".into(),
                    message: format!("the worker did not search: {other:?}"),
                },
            }),
            Waited::Died { mark, death } => {
                let (index, shrinking, done) = match mark {
                    Some(Mark { phase: Phase::Searching, index, done }) => (Some(index), false, done),
                    Some(Mark { phase: Phase::Shrinking, index, done }) => (Some(index), true, done),
                    Some(Mark { done, .. }) => (None, false, done),
                    None => (None, false, 0),
                };
                Err(Died { index, shrinking, done, death })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named() {
        assert_eq!(signal_name(6), "SIGABRT");
        assert_eq!(signal_name(11), "SIGSEGV");
        assert_eq!(signal_name(64), "signal 64");
    }
}
