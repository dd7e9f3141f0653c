//! Fault and abuse tests: floods, lowered limits, killed or paused
//! processes. Each is `#[ignore = "faults stage"]`; `scripts/test` runs
//! them in its faults stage (`cargo test --test api -- --ignored faults::`).

mod transport;
