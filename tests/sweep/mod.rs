//! Faults as data, chaos generators, sweeps, replay and minimization.

mod assertions;
mod nemesis;
mod plans;
mod planted;
mod reports;
mod sweeps;
