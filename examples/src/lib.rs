//! Shared code of the runnable examples.

pub mod bench {
    //! Benchmark workloads run by `detsim-bench`.
    pub mod check;
}
