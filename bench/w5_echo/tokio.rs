//! W5 echo (docs/design/benchmarks-method.md), Tokio current_thread: a TCP echo server; one task accepts, one task
//! per connection splits its socket and reads up to 64 KiB, then writes it all back (`write_all`). Tokio leaves
//! TCP_NODELAY off by default: it is set on each accepted socket.
//!
//!     w5_echo [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves until killed.
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port: u16 = std::env::args().nth(1).map_or(0, |a| a.parse().expect("PORT"));
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!("READY port={}", listener.local_addr().expect("local_addr").port());
    loop {
        let (mut socket, _) = listener.accept().await.expect("accept");
        socket.set_nodelay(true).expect("TCP_NODELAY");
        tokio::spawn(async move {
            let (mut rd, mut wr) = socket.split();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if wr.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        });
    }
}
