//! W1 spawn-join (docs/design/benchmarks-method.md), Tokio current_thread: spawn N tasks that each return their
//! index at once, keep the JoinHandles, then await each in order and sum the results.
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("N"));
    let start = Instant::now();

    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
    let mut sum = 0i64;
    for handle in handles {
        sum += handle.await.expect("task panicked");
    }

    let elapsed = start.elapsed().as_nanos() as f64;
    if sum != n * (n - 1) / 2 {
        eprintln!("w1 tokio: wrong sum {sum}");
        std::process::exit(1);
    }
    println!(
        "RESULT workload=w1_spawn_join runtime=tokio n={n} ns_per_op={:.2}",
        elapsed / n as f64
    );
}
