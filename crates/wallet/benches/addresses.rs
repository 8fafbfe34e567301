//! Benchmark: PRF output → the first address of all five chains, against the floor every BIP-39
//! wallet pays, the seed stretch (PBKDF2-HMAC-SHA512, 2048 rounds), measured in the same run.
//!
//! Plain `main` (no criterion) so that the same file runs natively (`cargo bench -p
//! blindvault-wallet --bench addresses`) and as WASM under Node's WASI
//! (`scripts/bench-wallet-wasm.sh`). Each iteration times the floor and the figure back to back,
//! in alternating order, so that load from other processes and the machine's drifting speed hit
//! both alike; the ratio reported is the median of those per-iteration ratios (the ratio of the
//! two medians is printed too). Target ≤ 1.2x.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use blindvault_wallet::{PrfOutput, Wallet};

fn time<F: FnMut()>(f: &mut F) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; a number argument sets the iteration count.
    let iters: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(300);
    let prf = PrfOutput::from_bytes([0x42; 32]);
    let schedule = blindvault_core::schedule::KeySchedule::derive(&prf);
    let phrase = Wallet::mnemonic_of(schedule.wallet_entropy());
    let mnemonic = bip39::Mnemonic::parse_normalized(phrase.expose()).unwrap();
    let wallet = Wallet::from_prf(&prf);
    let mut shown = Vec::new();

    // The floor: PBKDF2-HMAC-SHA512 x2048 of this wallet's mnemonic (RustCrypto, what the
    // wallet runs), and rust-bip39's own stretch for comparison.
    let mut floor = || {
        let mut out = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
            black_box(phrase.expose().as_bytes()),
            b"mnemonic",
            2048,
            &mut out,
        );
        black_box(out);
    };
    let mut stretch_bip39 = || {
        black_box(mnemonic.to_seed_normalized(black_box("")));
    };
    // The figure: PRF → key schedule → entropy → 24 words → seed → five first addresses.
    let mut figure = || {
        let w = Wallet::from_prf(black_box(&prf));
        shown = black_box(w.first_addresses().unwrap());
    };
    // The derivation part alone (seed already stretched).
    let mut derive_only = || {
        black_box(wallet.first_addresses().unwrap());
    };

    for _ in 0..iters.div_ceil(10) {
        floor();
        figure();
    }
    let (mut f, mut b, mut g, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pair_ratios = Vec::new();
    for i in 0..iters {
        // Floor and figure back to back, in alternating order, so that each pair sees the same
        // machine speed (this VM's speed drifts by up to 2x over minutes).
        let (floor_i, figure_i) = if i % 2 == 0 {
            let floor_first = time(&mut floor);
            (floor_first, time(&mut figure))
        } else {
            let figure_first = time(&mut figure);
            (time(&mut floor), figure_first)
        };
        f.push(floor_i);
        g.push(figure_i);
        pair_ratios.push(figure_i.as_secs_f64() / floor_i.as_secs_f64());
        b.push(time(&mut stretch_bip39));
        d.push(time(&mut derive_only));
    }
    let (floor_t, bip39_t, figure_t, derive_t) = (median(f), median(b), median(g), median(d));
    let ratio_of_medians = figure_t.as_secs_f64() / floor_t.as_secs_f64();
    pair_ratios.sort_by(f64::total_cmp);
    let ratio = pair_ratios[pair_ratios.len() / 2];

    let target = if cfg!(target_family = "wasm") { "wasm" } else { "native" };
    println!("blindvault-wallet address benchmark ({target}, {iters} interleaved iterations, medians)");
    for a in &shown {
        println!("  {:8} {:22} {}", a.chain, a.path, a.address);
    }
    println!("floor: seed stretch PBKDF2-HMAC-SHA512 x2048 (RustCrypto): {:9.1} us", us(floor_t));
    println!("       same stretch in rust-bip39 (for comparison):       {:9.1} us", us(bip39_t));
    println!("derivation of the 5 first addresses (seed given):         {:9.1} us", us(derive_t));
    println!("figure: PRF -> first address of all five chains:          {:9.1} us", us(figure_t));
    println!("ratio figure/floor, median of the {iters} back-to-back pairs: {ratio:.3}x (target <= 1.2x)");
    println!("ratio of the two medians above (drifts with the machine):  {ratio_of_medians:.3}x");
    println!(
        "RESULT {target} figure_us={:.1} floor_us={:.1} ratio={ratio:.3} ratio_of_medians={ratio_of_medians:.3}",
        us(figure_t),
        us(floor_t)
    );
}
