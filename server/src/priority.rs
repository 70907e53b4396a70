//! Thread priorities: the network threads yield the CPU to the tick threads.
//!
//! A tick writes its clients' frames from its tick thread (straight into each socket that takes
//! them; a connection's task writes only what a full socket left waiting), so under CPU
//! contention a tick whose thread waits behind input reading delivers its frames late. Inputs
//! lose nothing by waiting a little: a room reads them at its next tick. `game-server`
//! therefore runs its network threads (sockets, REST, SSE, the matcher's blocking passes)
//! `--net-nice` nice steps below the tick threads, which keep the process's priority.

use std::sync::Once;

/// The highest nice value, the lowest priority.
const LOWEST: i32 = 19;

/// The priority the network threads run at: some nice steps below the process's when it
/// started, whichever thread starts them (a thread inherits its creator's priority).
#[derive(Debug, Clone, Copy)]
pub struct NetPriority {
    /// The nice value to set; `None`: leave threads as they start.
    nice: Option<i32>,
}

impl NetPriority {
    /// `steps` nice steps below the calling thread's priority, read once here (at most nice
    /// 19); 0, a priority that cannot be read, or a system without per-thread nice values:
    /// none, and a warning says why.
    pub fn below_this_thread(steps: u8) -> Self {
        if steps == 0 {
            return Self { nice: None };
        }
        match current() {
            Ok(base) => Self {
                nice: Some((base + i32::from(steps)).min(LOWEST)),
            },
            Err(e) => {
                tracing::warn!(error = %e, "the network threads keep the process's priority");
                Self { nice: None }
            }
        }
    }

    /// Sets the calling thread's priority. On Linux the nice value belongs to the thread, so only
    /// this thread changes. A failure is logged once.
    pub fn apply_to_this_thread(self) {
        let Some(nice) = self.nice else { return };
        static WARNED: Once = Once::new();
        if let Err(e) = set(nice) {
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
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "per-thread nice values are a Linux feature",
    ))
}

#[cfg(not(target_os = "linux"))]
fn set(_nice: i32) -> std::io::Result<()> {
    current().map(|_| ())
}
