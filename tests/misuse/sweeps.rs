//! Sweeps that would pass silently: empty sweeps, ignored plans, closures that
//! ignore their seed, seeds that wrap, misleading panic reports.
