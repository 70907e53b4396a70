//! Thread priorities: the network threads yield the CPU to the tick threads.
//!
//! A tick writes every client's frame from its tick thread, so under CPU contention a tick whose
//! threads wait behind input reading delivers its frames late. Inputs lose nothing by waiting a
//! little: a room reads them at its next tick. `game-server` therefore runs its network threads
//! (sockets, REST, SSE, the matcher's blocking passes) `--net-nice` nice steps below the tick
//! threads, which keep the process's own priority.

use std::sync::Once;

/// The priority the network threads run at: `steps` nice steps below the process's when it
/// started, whichever thread starts them (a thread inherits its creator's priority).
#[derive(Debug, Clone, Copy)]
pub struct NetPriority {
    /// The nice value to set; `None`: leave threads as they start.
    nice: Option<i32>,
}

impl NetPriority {
    /// `steps` nice steps below the calling thread's priority (read once, here); 0: none.
    pub fn below_this_thread(steps: u8) -> Self {
        let nice = (steps > 0).then(|| current().unwrap_or(0) + i32::from(steps));
        Self { nice }
    }

    /// Sets the calling thread's priority. On Linux the nice value belongs to the thread, so only
    /// this thread changes; elsewhere nothing changes and a warning says so, once.
    pub fn apply_to_this_thread(self) {
        let Some(nice) = self.nice else { return };
        static WARNED: Once = Once::new();
        if let Err(e) = set(nice.min(19)) {
            WARNED.call_once(|| {
                tracing::warn!(error = %e, nice, "cannot lower the network threads' priority");
            });
        }
    }
}

#[cfg(target_os = "linux")]
fn current() -> std::io::Result<i32> {
    Ok(rustix::process::getpriority_process(None)?)
}

#[cfg(target_os = "linux")]
fn set(nice: i32) -> std::io::Result<()> {
    Ok(rustix::process::setpriority_process(None, nice)?)
}

#[cfg(not(target_os = "linux"))]
fn current() -> std::io::Result<i32> {
    Ok(0)
}

#[cfg(not(target_os = "linux"))]
fn set(_nice: i32) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "per-thread nice values are a Linux feature",
    ))
}
