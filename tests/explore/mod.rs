//! Guided exploration: forked runs, the campaign's determinism, and a bug
//! that needs two rare events in a row.

mod campaign;
mod forks;
