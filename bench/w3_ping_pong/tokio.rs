//! W3 ping-pong (docs/design/benchmarks-method.md), Tokio current_thread: two tasks pass a token through two
//! bounded mpsc channels of capacity 1 (Tokio's queue); the ponger adds one on each round
//! trip, so the token comes back as M.
use std::time::Instant;
use tokio::sync::mpsc;

async fn ping(out: mpsc::Sender<i64>, mut inbox: mpsc::Receiver<i64>, m: i64) -> i64 {
    let mut token = 0;
    for _ in 0..m {
        out.send(token).await.expect("pong hung up");
        token = inbox.recv().await.expect("pong hung up");
    }
    token
}

async fn pong(mut inbox: mpsc::Receiver<i64>, out: mpsc::Sender<i64>, m: i64) {
    for _ in 0..m {
        let token = inbox.recv().await.expect("ping hung up");
        out.send(token + 1).await.expect("ping hung up");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let m: i64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("M"));
    let start = Instant::now();

    let (there_tx, there_rx) = mpsc::channel(1);
    let (back_tx, back_rx) = mpsc::channel(1);
    let pinger = tokio::spawn(ping(there_tx, back_rx, m));
    let ponger = tokio::spawn(pong(there_rx, back_tx, m));
    let token = pinger.await.expect("ping panicked");
    ponger.await.expect("pong panicked");

    let elapsed = start.elapsed().as_nanos() as f64;
    if token != m {
        eprintln!("w3 tokio: token {token}, expected {m}");
        std::process::exit(1);
    }
    println!(
        "RESULT workload=w3_ping_pong runtime=tokio n={m} ns_per_op={:.2}",
        elapsed / m as f64
    );
}
