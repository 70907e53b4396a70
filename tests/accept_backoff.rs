//! Out of file descriptors, the accept loop backs off and logs once per burst, then serves again
//! when descriptors are free. A test binary of its own: it lowers this process's open-file
//! limit, which would break tests running beside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rlimit::Resource;
use tests::{config, start};

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn lines_with(&self, needle: &str) -> usize {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines().filter(|l| l.contains(needle)).count()
    }
}

/// Opens `/dev/null` until the open-file limit refuses; returns the files.
fn fill_descriptors() -> Vec<std::fs::File> {
    std::iter::from_fn(|| std::fs::File::open("/dev/null").ok())
        .take(100_000)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_accept_loop_backs_off_and_logs_once() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let server = start(config()).await;
    // Client sockets made now: connecting them later needs no new descriptor.
    let clients: Vec<socket2::Socket> = (0..4)
        .map(|_| socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap())
        .collect();
    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    let probe = std::fs::File::open("/dev/null").unwrap();
    let lowest_free = std::os::fd::AsRawFd::as_raw_fd(&probe) as u64;
    drop(probe);
    rlimit::setrlimit(Resource::NOFILE, lowest_free + 8, hard).unwrap();
    let fillers = fill_descriptors();
    for client in &clients {
        client.connect(&server.addr.into()).unwrap();
    }
    // The server cannot accept them: every accept fails with EMFILE for a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(fillers);
    rlimit::setrlimit(Resource::NOFILE, soft, hard).unwrap();

    let warned = logs.lines_with("accept");
    assert!(
        (1..=2).contains(&warned),
        "one warning for the burst, not one per failure: {warned} lines"
    );
    let healthy = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(res) = reqwest::get(server.url("/healthz")).await
                && res.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        healthy.is_ok(),
        "the server accepts again once descriptors are free"
    );
    drop(clients);
    server.stop().await;
}
