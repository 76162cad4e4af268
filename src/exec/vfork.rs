//! Starting the shell with `clone(CLONE_VM | CLONE_VFORK)` and a child that does only what a
//! check needs (Linux). The only `unsafe` code in fsi.
//!
//! Why not `posix_spawn`: glibc's child cannot know which signals the parent has handlers for,
//! so before exec it asks the kernel about every one of them — 121 `rt_sigaction` calls per
//! spawn, on the path between one check's exit and the next one's start, with fsi suspended —
//! and it maps and unmaps a fresh stack for every child (a TLB shoot-down on a multi-core
//! machine). `std::process::Command`, and so `just`, pays the same. Here the child resets only
//! the dispositions fsi itself changes, runs on a stack kept per thread, and changes into the
//! command's directory itself. Measured: about 40 µs less per command (bench/sessions,
//! docs/benchmarks.md).
//!
//! How it stays sound:
//! - **Shared memory.** With `CLONE_VM` the child runs in fsi's memory until `execve`, and with
//!   `CLONE_VFORK` the calling thread is suspended until then, so nothing the child reads (the
//!   [`Plan`] on this thread's stack, its argument and environment arrays) changes under it. The
//!   child allocates nothing, takes no lock and cannot panic: it makes plain system calls through
//!   libc on prepared data, and on failure stores `errno` where the parent reads it and calls
//!   `_exit`.
//! - **Its own stack.** A buffer kept per thread; the child is done with it before the parent
//!   resumes (it has exec'd or exited), so the next spawn on the thread can reuse it.
//! - **Signals.** The parent blocks every signal around `clone`, so the child starts with all of
//!   them blocked and no handler of fsi's can run in it. Before unblocking, the child puts the
//!   dispositions fsi changes back to the default: SIGPIPE (which Rust ignores, and an ignored
//!   signal stays ignored across exec) and the ones fsi has handlers for (SIGINT, SIGTERM,
//!   SIGCHLD). `execve` resets any other handler. A signal aimed at the fresh child's pid in the
//!   instant between the unblock and `execve` is the only one that could find a handler, and
//!   fsi's handlers only set flags and write to pipes.
//! - **File descriptors.** The child has its own copy of the descriptor table (no
//!   `CLONE_FILES`); fsi's descriptors are close-on-exec, and `dup2` onto 0, 1 and 2 gives the
//!   shell its streams. The source descriptors are never 0–2 (Rust's runtime keeps the standard
//!   descriptors open, so pipes and `/dev/null` get higher numbers); the caller checks.
//! - **Working directory.** The child has its own copy of the file-system context (no
//!   `CLONE_FS`), so its `chdir` does not move fsi.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::os::fd::RawFd;

use nix::unistd::Pid;

/// Everything the child needs, prepared by the parent.
struct Plan {
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    /// Dup'ed onto 0, 1 and 2.
    fds: [RawFd; 3],
    /// Set by the child when a step fails (`errno`), read by the parent after `clone` returns.
    error: c_int,
}

/// Stack for the child: the libc calls it makes need a few KiB.
const STACK_SIZE: usize = 64 * 1024;

/// Start `program` with `argv` and `envp` (each without the trailing null, which is added
/// here), in `cwd`, as the leader of a new process group, with `fds` as its standard streams.
/// `None` when this way of spawning is not available (the caller falls back to posix_spawn).
pub fn spawn(
    program: &CStr,
    argv: &[&CStr],
    envp: &[&CStr],
    cwd: &CStr,
    fds: [RawFd; 3],
) -> Option<std::io::Result<Pid>> {
    if fds.iter().any(|&fd| fd <= 2) {
        return None;
    }
    thread_local! {
        static STACK: std::cell::RefCell<Vec<u128>> =
            std::cell::RefCell::new(vec![0u128; STACK_SIZE / 16]);
    }
    let argv: Vec<*const c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const c_char> = envp
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let mut plan = Plan {
        program: program.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: cwd.as_ptr(),
        fds,
        error: 0,
    };
    STACK.with_borrow_mut(|stack| {
        // SAFETY: see the module documentation. `stack` outlives the child's use of it (the
        // child has exec'd or exited when `clone` returns, CLONE_VFORK), is 16-byte aligned
        // (u128) and its top is passed since the stack grows down; `plan` and the arrays it
        // points into live on this frame until after `clone` returns.
        let pid = unsafe {
            let top = stack.as_mut_ptr().add(stack.len()).cast::<c_void>();
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            let pid = libc::clone(
                child,
                top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (&raw mut plan).cast::<c_void>(),
            );
            let clone_errno = std::io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if pid < 0 { Err(clone_errno) } else { Ok(pid) }
        };
        match pid {
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => None,
            Err(e) => Some(Err(e)),
            Ok(pid) => {
                let pid = Pid::from_raw(pid);
                if plan.error != 0 {
                    // The child did not get to exec: it has exited; reap it.
                    let _ = nix::sys::wait::waitpid(pid, None);
                    Some(Err(std::io::Error::from_raw_os_error(plan.error)))
                } else {
                    Some(Ok(pid))
                }
            }
        }
    })
}

/// The child, until `execve`. Only system calls on prepared data; see the module documentation.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's `Plan`, alive and not touched by the parent until this
    // function has exec'd or exited (CLONE_VFORK).
    unsafe {
        let plan = &mut *arg.cast::<Plan>();
        let fail = |plan: &mut Plan| -> c_int {
            plan.error = *libc::__errno_location();
            if plan.error == 0 {
                plan.error = libc::EINVAL;
            }
            libc::_exit(127)
        };
        if libc::setpgid(0, 0) != 0 {
            return fail(plan);
        }
        for (target, fd) in plan.fds.into_iter().enumerate() {
            if libc::dup2(fd, target as c_int) < 0 {
                return fail(plan);
            }
        }
        if libc::chdir(plan.cwd) != 0 {
            return fail(plan);
        }
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        for sig in [libc::SIGPIPE, libc::SIGINT, libc::SIGTERM, libc::SIGCHLD] {
            libc::sigaction(sig, &default, std::ptr::null_mut());
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::execve(plan.program, plan.argv, plan.envp);
        fail(plan)
    }
}
