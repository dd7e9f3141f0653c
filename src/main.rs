use std::process::ExitCode;

use clap::Parser;
use roster::cli::{Cli, run};

/// Serving a request allocates and frees many small JSON values across
/// threads; glibc's allocator spent about an eighth of the CPU of a
/// `GET /Users/{id}` on that (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logging starts once the configuration names its format (`cli::run`).
    // A bad configuration ends start-up with one human line, no backtrace.
    match actix_web::rt::System::new().block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
