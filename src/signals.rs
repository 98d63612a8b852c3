//! SIGTERM and SIGINT: noted by a handler, then handed to the async side so the run stops at an
//! await point — between two messages — and the complete lines already written reach stdout.
//! A second signal, or a stop that takes longer than `GRACE` (stdout blocked by a target that
//! no longer reads), ends the process at once.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// How long the orderly stop may take before the process exits without it.
pub const GRACE: Duration = Duration::from_secs(10);

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(signum: libc::c_int) {
    // A second signal: the user insists. `_exit` is async-signal-safe; the buffered lines are lost.
    if RECEIVED.swap(signum, Ordering::SeqCst) != 0 {
        // SAFETY: `_exit` is async-signal-safe and takes no pointers.
        unsafe { libc::_exit(128 + signum) };
    }
}

/// The exit code for a stop by `signum`: 128 + its number, as shells report it (143 for SIGTERM).
pub fn exit_code(signum: i32) -> u8 {
    u8::try_from(128 + signum).unwrap_or(1)
}

pub fn name(signum: i32) -> &'static str {
    match signum {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Installs the handlers; the returned receiver resolves with the first signal's number. A
/// watchdog thread polls the flag (a handler may do almost nothing) and, once a signal came,
/// gives the orderly stop `GRACE` before it exits the process itself.
pub fn install() -> tokio::sync::oneshot::Receiver<i32> {
    for signum in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `note` only touches an atomic and calls `_exit`, both async-signal-safe; the
        // sigaction struct is zeroed, then filled, before the call reads it.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signum, &action, std::ptr::null_mut());
        }
    }
    let (tell, told) = tokio::sync::oneshot::channel();
    let watchdog = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let signum = loop {
                match RECEIVED.load(Ordering::SeqCst) {
                    0 => std::thread::sleep(Duration::from_millis(20)),
                    signum => break signum,
                }
            };
            let _ = tell.send(signum);
            std::thread::sleep(GRACE);
            crate::logging::write_line(&format!(
                "{} received and the orderly stop took longer than {}s (stdout blocked?); exiting",
                name(signum),
                GRACE.as_secs()
            ));
            // SAFETY: ends the process without running destructors, which may be what is stuck.
            unsafe { libc::_exit(128 + signum) };
        });
    if let Err(e) = watchdog {
        tracing::warn!("cannot watch for SIGTERM/SIGINT: {e}");
    }
    told
}
