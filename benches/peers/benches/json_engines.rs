//! The JSON pass alone, by engine: serde_json, sonic-rs and simd-json, each through serde into
//! the same claims types as the shape benches (a struct, and `serde_json::Value`), over the
//! decoded payloads of the same token shapes. It answers whether a faster JSON engine behind the
//! verifier's one pass would make verification faster: see BENCHMARKS.md, "Token shapes".
//!
//! `cd benches/peers && cargo bench --bench json_engines`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde::de::DeserializeOwned;
use tower_jwt_auth_peers::{Access, Idp, shapes};

fn bench_engines(c: &mut Criterion) {
    for (name, claims, simplejwt) in shapes() {
        let text = serde_json::to_string(&claims).expect("json");
        let mut g = c.benchmark_group(format!("json/{name} ({} B)", text.len()));
        if simplejwt {
            engines::<Access>(&mut g, "struct", &text);
        } else {
            engines::<Idp>(&mut g, "struct", &text);
        }
        engines::<serde_json::Value>(&mut g, "Value", &text);
        g.finish();
    }
}

fn engines<C: DeserializeOwned>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ty: &str,
    text: &str,
) {
    serde_json::from_str::<C>(text).expect("serde_json reads it");
    sonic_rs::from_str::<C>(text).expect("sonic-rs reads it");
    simd_json::serde::from_slice::<C>(&mut text.as_bytes().to_vec()).expect("simd-json reads it");
    g.bench_function(format!("{ty}: serde_json"), |b| {
        b.iter(|| serde_json::from_str::<C>(black_box(text)).unwrap())
    });
    g.bench_function(format!("{ty}: sonic-rs"), |b| {
        b.iter(|| sonic_rs::from_str::<C>(black_box(text)).unwrap())
    });
    // simd-json parses in place: the copy of the payload is made outside the timed part.
    g.bench_function(format!("{ty}: simd-json"), |b| {
        b.iter_batched(
            || text.as_bytes().to_vec(),
            |mut bytes| simd_json::serde::from_slice::<C>(&mut bytes).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_engines
}
criterion_main!(benches);
