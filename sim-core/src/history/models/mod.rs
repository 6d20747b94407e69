//! Ready-made models: one file per model.

mod kv;
mod log;
mod queue;
mod register;
mod set;

pub use kv::{KeyValue, KvInput, KvOutput};
pub use log::{Log, LogInput, LogOutput};
pub use queue::{Queue, QueueInput, QueueOutput};
pub use register::{Register, RegisterInput, RegisterOutput};
pub use set::{Set, SetInput, SetOutput};
