//! The memory bound a reader of a hostile file must stay within: 64 × the file's size + 256 MiB of new address
//! space. In a crash-isolated worker (`conform worker` calls [`enforce_in_this_process`]) the bound is enforced with
//! `RLIMIT_AS` around each read: the soft limit is set to the address space in use plus the bound, and put back
//! after. A reader that asks for more then sees its allocation fail — libtorch turns that into an error that says
//! how much it tried to allocate ([`attempted_allocation`] finds it), a Rust allocation aborts the worker (recorded
//! as a crash with the worker's stderr). Anywhere else (unit tests, `--in-process`, threads that share the process)
//! nothing is limited: a process-wide limit would fail other threads' allocations.
//!
//! A panic inside a bounded read (tch's `read_npz` unwraps) would run the panic hook under the limit, and printing
//! a backtrace needs far more memory than a small file allows: the read runs with a hook that restores the limit
//! first, then hands over to the hook that was there.
//!
//! Invariant: the limit is only ever lowered on a process that asked for it, and always restored, panics included.

use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rlimit::Resource;

static ENFORCED: AtomicBool = AtomicBool::new(false);

/// New address space a reader may use for a file of `file_len` bytes.
pub fn bound(file_len: usize) -> u64 {
    64 * file_len as u64 + (256 << 20)
}

/// Enforce the bound in this process from now on (a worker that runs one check at a time, on one thread).
pub fn enforce_in_this_process() {
    ENFORCED.store(true, Ordering::SeqCst);
}

/// Whether reads in this process run under `RLIMIT_AS`.
pub fn enforced() -> bool {
    ENFORCED.load(Ordering::SeqCst)
}

/// The address space this process uses now (`VmSize` of /proc/self/status), in bytes.
fn address_space() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Puts the limit and the panic hook back as they were.
struct Restore {
    soft: u64,
    hard: u64,
    hook: Option<Arc<Hook>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = rlimit::setrlimit(Resource::AS, self.soft, self.hard);
        // The hook cannot be swapped while this thread unwinds (std panics then); the wrapper stays, harmless: it
        // only puts back the limit this process had, then runs the hook that was there.
        if std::thread::panicking() {
            return;
        }
        if let Some(hook) = self.hook.take() {
            drop(std::panic::take_hook());
            match Arc::try_unwrap(hook) {
                Ok(previous) => std::panic::set_hook(previous),
                Err(shared) => std::panic::set_hook(Box::new(move |info| shared(info))),
            }
        }
    }
}

/// Runs `read` on a file of `file_len` bytes, under the bound where it is enforced.
pub fn within_bound<R>(file_len: usize, read: impl FnOnce() -> R) -> R {
    if !enforced() {
        return read();
    }
    let (Ok((soft, hard)), Some(used)) = (rlimit::getrlimit(Resource::AS), address_space()) else {
        return read();
    };
    let limit = used.saturating_add(bound(file_len)).min(hard);
    if limit >= soft {
        return read();
    }
    let previous: Arc<Hook> = Arc::new(std::panic::take_hook());
    let in_hook = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        let _ = rlimit::setrlimit(Resource::AS, soft, hard);
        in_hook(info)
    }));
    let _restore = Restore { soft, hard, hook: Some(previous) };
    if rlimit::setrlimit(Resource::AS, limit, hard).is_err() {
        return read();
    }
    read()
}

/// The bytes an error message says an allocation asked for (libtorch: "you tried to allocate N bytes"; Rust:
/// "memory allocation of N bytes failed").
pub fn attempted_allocation(error: &str) -> Option<u64> {
    for marker in ["tried to allocate ", "memory allocation of "] {
        if let Some(rest) = error.split(marker).nth(1) {
            if let Some(n) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
                return Some(n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_and_attempts() {
        assert_eq!(bound(100), 6400 + 268_435_456);
        assert_eq!(
            attempted_allocation("DefaultCPUAllocator: not enough memory: you tried to allocate 4294967296 bytes."),
            Some(4_294_967_296)
        );
        assert_eq!(attempted_allocation("memory allocation of 12 bytes failed"), Some(12));
        assert_eq!(attempted_allocation("bad header"), None);
    }

    #[test]
    fn not_enforced_unless_asked() {
        assert!(!enforced());
        assert_eq!(within_bound(10, || 7), 7);
    }
}
