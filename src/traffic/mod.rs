//! What happens to every call of the emulated APIs on its way in and out:
//! a fault injected when a rule or header asks for one ([`faults`]), and a
//! record kept of the call and why it got its answer ([`journal`]).

pub mod faults;
pub mod journal;
