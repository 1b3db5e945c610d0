//! Helper threads that start on another CPU than the thread spawning them.
//!
//! Linux queues a new thread on its parent's CPU. On the 2-vCPU KVM machine
//! this project is measured on (kernel 6.18), the two then took turns on
//! that CPU for up to a millisecond while the other CPU sat idle: a parent
//! and a new thread each spinning for 1 ms finished after 2.1 ms (median of
//! 100 runs), and after 1.1 ms when one of them first moved off the CPU.
//! Which one runs first varies, so [`spawn`] lets whichever of the two
//! runs first after the spawn move (exactly one does): it leaves the CPU,
//! then allows every CPU it was allowed again, so the scheduler stays free
//! to move it later. Where that cannot be done (one CPU, a restricted
//! cpuset, no `sched_getcpu`), the threads simply run where they were put.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use nix::sched::{sched_getaffinity, sched_getcpu, sched_setaffinity};
use nix::unistd::Pid;

/// As [`std::thread::spawn`], with the new thread and the caller on
/// different CPUs if another is free to use.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let mover = Mover::new();
    let theirs = mover.clone();
    let handle = std::thread::spawn(move || {
        theirs.leave_if_first();
        f()
    });
    mover.leave_if_first();
    handle
}

/// The spawning thread's CPU, and whether one of the two threads has left it.
#[derive(Clone)]
struct Mover {
    cpu: Option<usize>,
    moved: Arc<AtomicBool>,
}

impl Mover {
    fn new() -> Mover {
        Mover {
            cpu: sched_getcpu().ok(),
            moved: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Leaves the spawning thread's CPU, unless the other thread did first.
    fn leave_if_first(&self) {
        if let Some(cpu) = self
            .cpu
            .filter(|_| !self.moved.swap(true, Ordering::AcqRel))
        {
            leave(cpu);
        }
    }
}

/// Moves the calling thread off `cpu`, keeping its allowed CPUs.
fn leave(cpu: usize) {
    let me = Pid::from_raw(0);
    let Ok(allowed) = sched_getaffinity(me) else {
        return;
    };
    let mut elsewhere = allowed;
    if elsewhere.unset(cpu).is_ok() && sched_setaffinity(me, &elsewhere).is_ok() {
        let _ = sched_setaffinity(me, &allowed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sched::CpuSet;

    /// The CPUs the calling thread may run on.
    fn allowed() -> Vec<usize> {
        let set = sched_getaffinity(Pid::from_raw(0)).unwrap();
        (0..CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .collect()
    }

    #[test]
    fn a_spawned_thread_returns_its_value_and_may_run_on_every_cpu_its_parent_may() {
        let parent = allowed();
        let (value, child) = spawn(|| (42, allowed())).join().unwrap();
        assert_eq!(value, 42);
        assert_eq!(child, parent);
        assert_eq!(allowed(), parent, "the parent's CPUs are restored too");
    }

    #[test]
    fn leaving_the_only_allowed_cpu_changes_nothing() {
        spawn(|| {
            let me = Pid::from_raw(0);
            let cpu = sched_getcpu().unwrap();
            let mut only = CpuSet::new();
            only.set(cpu).unwrap();
            sched_setaffinity(me, &only).unwrap();
            leave(cpu);
            assert_eq!(allowed(), [cpu]);
            assert_eq!(sched_getcpu().unwrap(), cpu);
        })
        .join()
        .unwrap();
    }
}
