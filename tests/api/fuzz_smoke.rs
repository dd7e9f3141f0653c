//! A thousand fuzzed requests in the normal suite; the faults stage sends
//! a hundred thousand (`faults::fuzz`).

use std::time::Duration;

use crate::faults::fuzz::{Plan, run};
use crate::helpers::Db;

/// Fixed, so that the normal suite is deterministic; the faults stage
/// explores new seeds. `ROSTER_FUZZ_SEED` overrides it.
const SEED: u64 = 20_261_204;

#[actix_web::test]
async fn a_thousand_fuzzed_requests_sqlite() {
    let from_env = Plan::from_env(1_000, Duration::from_secs(60));
    let plan = Plan {
        requests: 1_000,
        budget: Duration::from_secs(60),
        seed: std::env::var("ROSTER_FUZZ_SEED").map_or(SEED, |_| from_env.seed),
    };
    let outcome = run(Db::Sqlite, &plan).await;
    for failure in outcome.failures.iter().take(10) {
        println!("---- failure\n{failure}\n");
    }
    assert!(
        outcome.failures.is_empty(),
        "{} failure(s)",
        outcome.failures.len()
    );
    assert_eq!(outcome.sent, 1_000);
}
