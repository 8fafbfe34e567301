//! What the benchmarks that run on PostgreSQL share: their entry point, a number from the
//! environment, and a percentile.

use std::time::Duration;

/// A benchmark's `main` on PostgreSQL: runs `body` on a multi-threaded runtime when
/// `BLINDVAULT_TEST_DATABASE_URL` is set, otherwise says what it needs (`name`, the bench's
/// name) and succeeds; under `--list` (what `cargo test --benches` asks) it does nothing.
pub fn main_on_postgres<F: std::future::Future<Output = anyhow::Result<()>>>(
    name: &str,
    body: impl FnOnce() -> F,
) -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    if std::env::var(crate::PG_ENV).is_err() {
        println!(
            "{name} benchmark: needs PostgreSQL — {}=postgres://… cargo bench -p blindvault-cli --bench {name}",
            crate::PG_ENV
        );
        return Ok(());
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(body())
}

/// The number in environment variable `name`, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` percentile (0 to 1) of `sorted`, nearest rank; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i.min(sorted.len() - 1)).copied().unwrap_or(Duration::ZERO)
}
