//! W2 yield storm (docs/design/benchmarks-method.md), Tokio current_thread: T tasks each yield to the scheduler
//! (tokio::task::yield_now) Y times; each returns how many times it yielded.
use std::time::Instant;

async fn yielder(yields: i64) -> i64 {
    let mut count = 0;
    for _ in 0..yields {
        tokio::task::yield_now().await;
        count += 1;
    }
    count
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n_tasks: i64 = args.next().map_or(1_000, |a| a.parse().expect("T"));
    let yields: i64 = args.next().map_or(1_000, |a| a.parse().expect("Y"));
    let start = Instant::now();

    let handles: Vec<_> = (0..n_tasks)
        .map(|_| tokio::spawn(yielder(yields)))
        .collect();
    let mut count = 0i64;
    for handle in handles {
        count += handle.await.expect("task panicked");
    }

    let elapsed = start.elapsed().as_nanos() as f64;
    let total = n_tasks * yields;
    if count != total {
        eprintln!("w2 tokio: {count} yields, expected {total}");
        std::process::exit(1);
    }
    println!(
        "RESULT workload=w2_yield_storm runtime=tokio n={total} ns_per_op={:.2}",
        elapsed / total as f64
    );
}
