//! Fault and abuse tests: slow or disruptive, run by the `faults` stage of
//! `scripts/test` (`cargo test --test api -- --ignored faults::`).

mod durability;
mod fuzz;
