//! A `game-server` node as a child process (to kill with SIGKILL or stop with SIGSTOP), built
//! from this checkout before the first one starts.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `target/debug/game-server`, built (or found up to date) once per test process.
fn binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "server", "--bin", "game-server"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "game-server builds");
        // This test runs as target/debug/deps/NAME-HASH.
        let exe = std::env::current_exe().expect("the test's path");
        let debug = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/debug");
        debug.join("game-server")
    })
}

/// A `game-server` child process, killed when dropped.
pub struct NodeProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl NodeProcess {
    /// Starts a node of the cluster at `redis` with test settings (no REST rate limit, any
    /// mode, one tick thread) and `extra` flags; waits until it answers `/healthz`.
    pub async fn start(redis: &str, extra: &[&str]) -> Self {
        Self::spawn(&[&["--redis", redis], extra].concat()).await
    }

    /// Starts a server alone (no Redis) with the same test settings and `extra` flags; waits
    /// until it answers `/healthz`.
    pub async fn alone(extra: &[&str]) -> Self {
        Self::spawn(extra).await
    }

    async fn spawn(extra: &[&str]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let child = Command::new(binary())
            .args(["--bind", &bind, "--api-rate", "0"])
            .args(["--tick-threads", "1", "--modes", "*"])
            .args(["--max-connections-per-addr", "0"])
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .expect("game-server starts");
        let node = Self {
            child,
            base: format!("http://{bind}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = reqwest::get(format!("{}/healthz", node.base)).await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return node;
            }
            assert!(Instant::now() < deadline, "{} did not come up", node.base);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }

    /// Kills it with SIGKILL and reaps it.
    pub fn kill9(&mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
