//! What happens to every call of the emulated APIs on its way in and out:
//! a fault injected when a rule or header asks for one ([`faults`]), and a
//! record kept of the call and why it got its answer ([`journal`]).

pub mod faults;
pub mod journal;

use std::sync::Mutex;

/// Set by fault injection while it holds a call back, so that a call the
/// client gives up on meanwhile is recorded with that reason.
#[derive(Debug, Default)]
pub struct Delay {
    note: Mutex<Option<String>>,
}

impl Delay {
    /// Says why the call is being held back ("of injected latency (fault
    /// rule 3)").
    pub fn holding(&self, why: String) {
        *self.note.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }

    pub(crate) fn note(&self) -> Option<String> {
        self.note.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The status recorded for a call the client gave up on (nginx's 499).
pub const CLIENT_CLOSED: u16 = 499;

/// The status recorded for a call whose connection was dropped on purpose
/// (nginx's 444, "no response").
pub const DROPPED: u16 = 444;
