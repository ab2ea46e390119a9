//! W4 sleepers (docs/design/benchmarks-method.md), Tokio current_thread: N tasks each sleep 1 s once; spawn all,
//! then await all. The figure is the overhead: wall time minus 1 s. With a second argument J > 0, W4j: each sleep
//! lengthened by 0 to J-1 µs from the shared generator (bench/w4_sleepers/asyncio.cpp), the figure the wall time
//! minus the longest sleep.
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: i64 = args.next().map_or(1_000_000, |a| a.parse().expect("N"));
    let j: u32 = args.next().map_or(0, |a| a.parse().expect("J"));
    let start = Instant::now();

    let mut lcg: u32 = 12345; // the shared generator: a 32-bit LCG, bits 8-31 modulo j
    let mut longest = Duration::ZERO;
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let mut delay = Duration::from_secs(1);
            if j > 0 {
                lcg = lcg.wrapping_mul(1664525).wrapping_add(1013904223);
                delay += Duration::from_micros(u64::from((lcg >> 8) % j));
            }
            longest = longest.max(delay);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                1i64
            })
        })
        .collect();
    let mut woken = 0i64;
    for handle in handles {
        woken += handle.await.expect("task panicked");
    }

    let overhead = start.elapsed().as_nanos() as f64 - longest.as_nanos() as f64;
    if woken != n {
        eprintln!("w4 tokio: {woken} woke, expected {n}");
        std::process::exit(1);
    }
    let workload = if j > 0 { "w4j_jitter" } else { "w4_sleepers" };
    println!(
        "RESULT workload={workload} runtime=tokio n={n} ns_per_op={:.2} overhead_ms={:.3}",
        overhead / n as f64,
        overhead / 1e6
    );
}
