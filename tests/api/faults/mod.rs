//! Tests that inject faults into what Roster runs on. Each is ignored in
//! the normal run; the faults stage runs them (`--ignored faults::`).

mod galera;
