//! The misuse suite: each mistake a new user makes gets a clear error or an
//! honest report, never a hang, an abort without the message, or a silent
//! pass. One file per class of mistake; `book/src/reference/common-mistakes.md`
//! lists the same mistakes with what detsim says and what to do.

mod hangs;
mod inputs;
mod surface;
mod sweeps;
