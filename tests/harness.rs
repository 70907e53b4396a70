//! Test harness: start the real server on `127.0.0.1:0` and talk to it with real clients.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

pub mod proxy;

use client_sim::{ClientError, Event, GameClient, LobbyClient};
use protocol::api::SeatGrant;
use server::game::GameCatalog;
use server::games::movement::Steer;
use server::{Config, ServerError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub mod node_process;
pub mod redis_server;

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    /// Base URL of the operations listener (`/metrics`), when the server has one.
    pub admin_base: Option<String>,
    shutdown: CancellationToken,
    handle: JoinHandle<Result<(), ServerError>>,
}

/// A configuration for tests: no REST rate limit, one tick thread, any mode, the flags' defaults
/// otherwise (never the environment's `GAME_*` variables: [`Config::default`] ignores them).
pub fn config() -> Config {
    Config {
        api_rate: 0.0,
        tick_threads: 1,
        modes: vec![server::lobby::modes::ANY_MODE.into()],
        ..Config::default()
    }
}

/// Logs to the test output when `RUST_LOG` is set.
fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
}

/// Starts a server with `config` on an ephemeral port, with its operations listener
/// (`/metrics`) on another.
pub async fn start(config: Config) -> TestServer {
    start_with(config, true).await
}

/// Starts a server with `config` on an ephemeral port; with an operations listener on another
/// when `admin`.
pub async fn start_with(config: Config, admin: bool) -> TestServer {
    start_games(config, admin, GameCatalog::builtin()).await
}

/// Starts a server of the games of `games` with `config` on an ephemeral port; with an
/// operations listener on another when `admin`.
pub async fn start_games(config: Config, admin: bool, games: GameCatalog) -> TestServer {
    init_logs();
    let listener = bind().await;
    let addr = listener.local_addr().unwrap();
    let admin = if admin { Some(bind().await) } else { None };
    let admin_base = admin
        .as_ref()
        .map(|l| format!("http://{}", l.local_addr().unwrap()));
    let shutdown = CancellationToken::new();
    let listeners = server::Listeners {
        public: listener,
        admin,
    };
    let handle = tokio::spawn(server::serve_with(
        listeners,
        config,
        games,
        shutdown.clone(),
    ));
    TestServer {
        addr,
        base: format!("http://{addr}"),
        admin_base,
        shutdown,
        handle,
    }
}

async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

impl TestServer {
    /// `config` with a resume grace period of `grace`.
    pub fn with_grace(config: Config, grace: Duration) -> Config {
        Config {
            resume_grace: grace,
            ..config
        }
    }

    /// A lobby API client.
    pub fn api(&self) -> LobbyClient {
        LobbyClient::new(&self.base).unwrap()
    }

    /// A full URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A seat from join-or-create.
    pub async fn seat(&self, name: &str, mode: &str) -> SeatGrant {
        self.api().join_or_create(name, mode).await.unwrap()
    }

    /// A connected player.
    pub async fn player(&self, name: &str, mode: &str) -> GameClient {
        let seat = self.seat(name, mode).await;
        GameClient::join(&seat.ws_url, &seat.seat_token)
            .await
            .unwrap()
    }

    /// The Prometheus text of `/metrics` on the operations listener.
    pub async fn metrics(&self) -> String {
        let admin = self
            .admin_base
            .as_deref()
            .expect("the server has an admin listener");
        reqwest::get(format!("{admin}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The game WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Fires the shutdown and waits for the server to stop.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(15), self.handle).await;
        result
            .expect("server stops in time")
            .expect("server task")
            .expect("server ran cleanly");
    }

    /// Fires the shutdown without waiting.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }
}

/// The next frame, failing the test after 5 s.
pub async fn next_frame(client: &mut GameClient) -> Event {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.recv()).await {
            Ok(Ok(e @ Event::Frame { .. })) => return e,
            Ok(Ok(Event::Pong { .. })) => {}
            Ok(Err(e)) => panic!("connection failed while waiting for a frame: {e}"),
            Err(_) => panic!("no frame within 5 s"),
        }
    }
}

/// Reads frames for `d`, asserting each one verified.
pub async fn play_for(client: &mut GameClient, d: Duration) -> usize {
    let end = tokio::time::Instant::now() + d;
    let mut frames = 0;
    while tokio::time::Instant::now() < end {
        if let Event::Frame { desync, tick, .. } = next_frame(client).await {
            assert_eq!(desync, None, "desync at tick {tick}");
            frames += 1;
        }
    }
    frames
}

/// Reads until the server closes; returns the close code (fails after `within`).
pub async fn close_code(client: &mut GameClient, within: Duration) -> u16 {
    let result = tokio::time::timeout(within, async {
        loop {
            match client.recv().await {
                Ok(_) => {}
                Err(ClientError::Closed { code, .. }) => return code,
                Err(e) => panic!("expected a close frame, got {e}"),
            }
        }
    })
    .await;
    result.expect("the server closes the connection in time")
}

/// Positions by entity id.
pub type State = std::collections::BTreeMap<u32, (i32, i32)>;

/// Each tick's state as one player's verified mirror saw it.
pub type History = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u32, State>>>;

/// Players that walk in circles until [`Walkers::finish`].
#[derive(Default)]
pub struct Walkers {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Walkers {
    /// Adds a player of `mode`, recording its mirror's state at every tick into `history`;
    /// returns its room.
    pub async fn add(
        &mut self,
        server: &TestServer,
        name: &str,
        mode: &str,
        history: Option<History>,
    ) -> u32 {
        let (room, task) = walker(server, name, mode, history, self.stop.clone()).await;
        self.tasks.push(task);
        room
    }

    /// Stops every player (each leaves) and waits for them.
    pub async fn finish(self) {
        self.stop.cancel();
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

/// A player of `mode` that walks in circles until `stop`; returns its room and task.
async fn walker(
    server: &TestServer,
    name: &str,
    mode: &str,
    history: Option<History>,
    stop: CancellationToken,
) -> (u32, JoinHandle<()>) {
    let mut client = server.player(name, mode).await;
    let room = client.welcome().room_id;
    let task = tokio::spawn(async move {
        let mut seq = 0u32;
        loop {
            let event = tokio::select! {
                _ = stop.cancelled() => break,
                e = client.recv() => e,
            };
            let Ok(Event::Frame { tick, desync, .. }) = event else {
                continue;
            };
            assert_eq!(desync, None);
            if let Some(h) = &history {
                let state = client
                    .world()
                    .entities()
                    .filter_map(|e| e.position().map(|p| (e.id, (p.x, p.y))))
                    .collect();
                h.lock().unwrap().insert(tick, state);
            }
            seq += 1;
            let angle = f64::from(seq) / 8.0;
            let (move_x, move_y) = ((angle.cos() * 127.0) as i8, (angle.sin() * 127.0) as i8);
            let steer = Steer {
                move_x,
                move_y,
                buttons: 0,
            };
            let input = protocol::Input::new(seq, seq, &steer);
            if client.send_input(input).await.is_err() {
                break;
            }
        }
        let _ = client.leave().await;
    });
    (room, task)
}

/// The value of one Prometheus sample in a `/metrics` text; panics when it is missing.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("metric {name} missing"))
}

/// One browser at a time: the tests of a file run in parallel, and Chromiums in parallel starve
/// a busy two-core machine. Hold it while a browser check runs.
pub static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The Chromium the browser tests drive (`CHROMIUM`, else Debian's), after checking that it
/// and `tests/browser`'s playwright-core are installed (`tests/run.sh` installs both).
pub fn browser_tools() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("browser/node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/browser` (tests/run.sh does it)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: `apt-get install chromium` (tests/run.sh does it) or set CHROMIUM"
    );
    chromium
}
