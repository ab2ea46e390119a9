//! W4 sleepers (docs/design/benchmarks-method.md), Tokio current_thread: N tasks each sleep 1 s once; spawn all,
//! then await all. The figure is the overhead: wall time minus 1 s.
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("N"));
    let start = Instant::now();

    let handles: Vec<_> = (0..n)
        .map(|_| {
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                1i64
            })
        })
        .collect();
    let mut woken = 0i64;
    for handle in handles {
        woken += handle.await.expect("task panicked");
    }

    let overhead = start.elapsed().as_nanos() as f64 - 1e9;
    if woken != n {
        eprintln!("w4 tokio: {woken} woke, expected {n}");
        std::process::exit(1);
    }
    println!(
        "RESULT workload=w4_sleepers runtime=tokio n={n} ns_per_op={:.2} overhead_ms={:.3}",
        overhead / n as f64,
        overhead / 1e6
    );
}
