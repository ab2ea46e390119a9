//! W6 call_soon_threadsafe throughput (docs/design/benchmarks-method.md), Tokio current_thread: 4 std threads
//! each send M messages on an unbounded mpsc channel to a task of the runtime, which counts them. ns per message.
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let per_thread: i64 = std::env::args().nth(1).map_or(250_000, |a| a.parse().expect("M"));
    let threads = 4;
    let total = per_thread * threads;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<i64>();
    let start = Instant::now();
    let posters: Vec<_> = (0..threads)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    tx.send(i).expect("send");
                }
            })
        })
        .collect();
    drop(tx);
    let mut count = 0i64;
    while count < total {
        rx.recv().await.expect("recv");
        count += 1;
    }
    let elapsed = start.elapsed().as_nanos() as f64;
    for p in posters {
        p.join().expect("join");
    }
    println!("RESULT workload=w6_threadsafe runtime=tokio n={total} ns_per_op={:.2}", elapsed / total as f64);
}
