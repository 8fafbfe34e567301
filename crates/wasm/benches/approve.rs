//! Native side of the browser benchmark: one approval (decode, verify org → host → request,
//! open the envelope, reseal to the ephemeral key, encode), the same `Fixture` the browser runs.
//! `scripts/bench-web.sh` runs this and the browser's figure and prints the ratio.
//!
//! Prints `native_approve_us=<median of 15 batches, µs per approval>`.

use std::time::Instant;

fn main() {
    let fixture = match blindvault_wasm::fixture::Fixture::new() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fixture: {e}");
            std::process::exit(1);
        }
    };
    let batch = 200;
    let mut samples = Vec::new();
    let mut sink = 0usize;
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..batch {
            sink = sink.wrapping_add(fixture.run().unwrap_or(0));
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(batch));
    }
    samples.sort_by(f64::total_cmp);
    let median = samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN);
    println!("native_approve_us={median:.2}");
    if sink == 0 {
        eprintln!("no approvals ran");
        std::process::exit(1);
    }
}
