//! W8 spawn (docs/design/benchmarks-method.md), Tokio current_thread: N runs of /bin/true with
//! `tokio::process::Command`, C at a time (C workers, each spawning and awaiting one child after another),
//! every exit code checked.
use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

async fn worker(next: Rc<Cell<usize>>, ok: Rc<Cell<usize>>, n: usize) {
    while next.get() < n {
        next.set(next.get() + 1);
        let status = tokio::process::Command::new("/bin/true").status().await.expect("spawn");
        if status.success() {
            ok.set(ok.get() + 1);
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args().nth(1).map_or(1000, |a| a.parse().expect("N"));
    let c: usize = std::env::args().nth(2).map_or(16, |a| a.parse().expect("C"));
    let start = Instant::now();
    let next = Rc::new(Cell::new(0));
    let ok = Rc::new(Cell::new(0));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let handles: Vec<_> = (0..c).map(|_| tokio::task::spawn_local(worker(next.clone(), ok.clone(), n))).collect();
            for h in handles {
                h.await.expect("worker");
            }
        })
        .await;
    let elapsed = start.elapsed().as_nanos() as f64;
    if ok.get() != n {
        eprintln!("w8 tokio: {} of {n} exited 0", ok.get());
        std::process::exit(1);
    }
    println!("RESULT workload=w8_spawn runtime=tokio n={n} ns_per_op={:.2}", elapsed / n as f64);
}
