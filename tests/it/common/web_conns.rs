//! Hostile clients for `serve`: many idle or slowloris connections held
//! open, and checks of whether the server has closed one; plus reading the
//! confirmation queue and waiting for a condition with a deadline.
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mailroom::store::{QueuedConfirmation, Store};

use super::project::Project;

/// Lets this test process hold `n` more sockets: raises the soft
/// open-file limit towards the hard one.
pub fn allow_sockets(n: u64) {
    let got = rlimit::increase_nofile_limit(n + 512).expect("read RLIMIT_NOFILE");
    assert!(
        got >= n + 64,
        "the open-file limit is {got}; this test needs {n} sockets"
    );
}

/// Opens `n` connections that send nothing.
pub fn hold_idle(port: u16, n: usize) -> Vec<TcpStream> {
    (0..n).map(|_| connect(port)).collect()
}

/// Opens `n` connections that each send part of a request head and stop
/// (slowloris).
pub fn hold_slow(port: u16, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut s = connect(port);
            let head = format!("GET /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-{i}: a");
            s.write_all(head.as_bytes()).expect("send a partial head");
            s
        })
        .collect()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Whether the server still holds `s` open (nothing to read, no EOF).
pub fn still_open(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1];
    let open = matches!(s.peek(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock);
    s.set_nonblocking(false).unwrap();
    open
}

/// Reads until the server closes `s`; whether it did within `limit` (it
/// may answer first, e.g. 408, which is returned as text).
pub fn closed_by_server(s: &mut TcpStream, limit: Duration) -> (bool, String) {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break false;
            }
            Err(_) => break true,
        }
    };
    (closed, String::from_utf8_lossy(&got).into_owned())
}

/// The project's confirmation queue, read through the library.
pub fn queue(p: &Project) -> Vec<QueuedConfirmation> {
    let url = format!("sqlite://{}", p.path("mailroom.db").display());
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let store = Store::open(&url).await.expect("open the store");
        let rows = store.confirmation_queue().await.expect("read the queue");
        store.close().await;
        rows
    })
}

/// Polls `check` every 50 ms until it holds, at most `limit`; panics with
/// `what` otherwise.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
