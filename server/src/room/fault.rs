//! Fault injection for the integration tests (feature `fault-injection`, enabled only by the
//! tests crate): a room of mode [`PANIC_MODE`] panics when it reads an input.

/// The game mode whose rooms panic on their first input.
pub const PANIC_MODE: &str = "fault-injection-panic";

/// Panics if `mode` is [`PANIC_MODE`].
pub fn on_input(mode: &str) {
    if mode == PANIC_MODE {
        panic!("injected fault: a room of mode {PANIC_MODE} read an input");
    }
}
