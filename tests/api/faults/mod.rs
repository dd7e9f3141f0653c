//! Fault and abuse tests: slow or disruptive, run by the `faults` stage of
//! `scripts/test` (`cargo test --test api -- --ignored faults::`).

mod durability;
pub mod fuzz;
mod fuzz_gen;
mod fuzz_input;
