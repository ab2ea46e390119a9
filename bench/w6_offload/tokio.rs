//! W6 offload (docs/design/benchmarks-method.md), Tokio current_thread: N `spawn_blocking(f).await` round trips,
//! one after another, of a trivial function, on Tokio's blocking pool.
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: i64 = std::env::args().nth(1).map_or(100_000, |a| a.parse().expect("N"));
    let start = Instant::now();
    let mut sum = 0i64;
    for i in 0..n {
        sum += tokio::task::spawn_blocking(move || i + 1).await.expect("task panicked");
    }
    let elapsed = start.elapsed().as_nanos() as f64;
    if sum != n * (n + 1) / 2 {
        eprintln!("w6 tokio: sum {sum}");
        std::process::exit(1);
    }
    println!("RESULT workload=w6_offload runtime=tokio n={n} ns_per_op={:.2}", elapsed / n as f64);
}
