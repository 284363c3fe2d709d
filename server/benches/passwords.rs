//! One password verification at the chosen Argon2id cost (`identity::passwords`: 19 MiB, 2 passes,
//! 1 lane): what every sign-in pays, and what level 3's lockout makes a guesser pay. Issue 18 asks for
//! at most 50 ms on this project's machine. Also one hash (account creation, password change).
//!
//! `cargo bench -p gridwatch --bench passwords`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gridwatch::identity::passwords::{hash_blocking, verify_blocking};

fn passwords(c: &mut Criterion) {
    let phc = hash_blocking("Street-Grid-2026");
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(30);
    group.bench_function("verify (right password)", |b| {
        b.iter(|| {
            assert!(verify_blocking(
                black_box("Street-Grid-2026"),
                black_box(&phc)
            ));
        });
    });
    group.bench_function("verify (wrong password)", |b| {
        b.iter(|| {
            assert!(!verify_blocking(
                black_box("Street-Grid-2027"),
                black_box(&phc)
            ));
        });
    });
    group.bench_function("hash", |b| {
        b.iter(|| hash_blocking(black_box("Street-Grid-2026")));
    });
    group.finish();
}

criterion_group!(benches, passwords);
criterion_main!(benches);
