//! One bot: matchmake, connect, play, measure.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use protocol::CloseCode;
use protocol::api::{CreateLobby, CreateTicket, JoinLobby, SeatGrant};
use protocol::clock::unix_micros;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::behavior::{Behavior, Mover};
use crate::error::ClientError;
use crate::game::{Event, GameClient};
use crate::lobby::LobbyClient;
use crate::source::Sources;
use crate::stats::{BotStats, EventTally, FrameLatencies, Samples};
use crate::steering::{self, Steering};

/// Frames a bot counts before adding them to the shared live counters.
const LIVE_BATCH: u64 = 32;

/// How bots get their seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeatMode {
    /// `POST /matchmaking/join-or-create`.
    JoinOrCreate,
    /// A quick-match ticket, polled until matched.
    Quick,
    /// Lobbies of a room's size: the first bot of each group creates and starts, the others join.
    Lobby,
}

/// Settings every bot shares.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// How seats are obtained.
    pub seat_mode: SeatMode,
    /// Game mode to ask for.
    pub game_mode: String,
    /// Region for quick match.
    pub region: String,
    /// Inputs per second (0: the server's tick rate), kept within [`INPUT_HZ`].
    pub input_hz: f64,
    /// Movement.
    pub behavior: Behavior,
    /// Base seed; bot `i` uses `seed + i`.
    pub seed: u64,
    /// Bots per lobby in `lobby` mode.
    pub lobby_size: usize,
    /// Resume after an unexpected drop.
    pub resume: bool,
    /// Matchmake again (on the next node) after the room is lost for good: closed, its node
    /// gone, or the resume refused.
    pub rematch: bool,
}

/// Input rates a bot can send at, in inputs per second.
pub const INPUT_HZ: std::ops::RangeInclusive<f64> = 0.1..=1000.0;

/// Live counters every bot updates, for the progress display.
#[derive(Debug, Default)]
pub struct Live {
    /// Bots connected now.
    pub connected: AtomicU64,
    /// Frames received.
    pub frames: AtomicU64,
    /// Frame bytes received.
    pub bytes: AtomicU64,
    /// Desyncs.
    pub desyncs: AtomicU64,
    /// Disconnects and errors.
    pub failures: AtomicU64,
}

/// Lobby ids published by the group owners in `lobby` mode.
#[derive(Debug)]
pub struct LobbyBoard {
    slots: Vec<watch::Sender<Option<String>>>,
}

impl LobbyBoard {
    /// A board for `groups` lobbies.
    pub fn new(groups: usize) -> Self {
        Self {
            slots: (0..groups).map(|_| watch::channel(None).0).collect(),
        }
    }
}

/// Everything a bot shares with the others.
#[derive(Debug, Clone)]
pub struct BotShared {
    /// Settings.
    pub config: Arc<BotConfig>,
    /// Per source-address group, the lobby API of each node; bots spread their requests over
    /// the nodes.
    pub apis: Arc<[Arc<[LobbyClient]>]>,
    /// Which source address each bot connects from.
    pub sources: Sources,
    /// Live counters.
    pub live: Arc<Live>,
    /// Lobby ids in `lobby` mode.
    pub board: Arc<LobbyBoard>,
    /// Frame latencies of every bot.
    pub latencies: Arc<FrameLatencies>,
    /// Fires to stop every bot (duration over, Ctrl-C).
    pub stop: CancellationToken,
}

/// Runs bot `index` until `stop` fires; returns what it measured.
pub async fn run(index: usize, shared: BotShared) -> BotStats {
    let mut stats = BotStats::default();
    let name = format!("bot-{index}");
    let mut attempt = 0;
    while let Some(client) = enter(index, &name, attempt, &shared, &mut stats).await {
        stats.connected = true;
        shared.live.connected.fetch_add(1, Relaxed);
        let played = Instant::now();
        let still_connected = play(index, client, &shared, &mut stats).await;
        stats.connected_for += played.elapsed();
        shared.live.connected.fetch_sub(1, Relaxed);
        if still_connected || !shared.config.rematch || shared.stop.is_cancelled() {
            break;
        }
        stats.rematches += 1;
        attempt += 1;
    }
    stats
}

/// Gets a seat and joins its room; `None` when stopped or when that failed (counted). With
/// rematches on, a failure moves on to the next node (each node is tried once; a move counts
/// as a rematch).
async fn enter(
    index: usize,
    name: &str,
    attempt: usize,
    shared: &BotShared,
    stats: &mut BotStats,
) -> Option<GameClient> {
    let tries = if shared.config.rematch {
        shared.nodes(index).len()
    } else {
        1
    };
    let mut failure = None;
    for n in 0..tries {
        if n > 0 {
            stats.rematches += 1;
        }
        let started = Instant::now();
        let seat = tokio::select! {
            _ = shared.stop.cancelled() => return None,
            seat = get_seat(index, name, attempt + n, shared) => seat,
        };
        let seat = match seat {
            Ok(seat) => seat,
            Err(e) => {
                tracing::debug!(bot = index, error = %e, "matchmaking failed");
                failure = Some(format!("matchmaking_{}", e.label()));
                continue;
            }
        };
        stats.matchmaking.get_or_insert(started.elapsed());
        let connecting = Instant::now();
        let source = shared.sources.addr(shared.sources.group(index));
        match GameClient::join_from(&seat.ws_url, &seat.seat_token, source).await {
            Ok(client) => {
                stats.connect.get_or_insert(connecting.elapsed());
                return Some(client);
            }
            Err(e) => {
                tracing::debug!(bot = index, error = %e, "join failed");
                failure = Some(format!("join_{}", e.label()));
            }
        }
    }
    if let Some(kind) = failure {
        stats.error(kind);
        shared.live.failures.fetch_add(1, Relaxed);
    }
    None
}

/// The node a bot asks: bot `index` starts at node `index` (mod the nodes) and moves on by one
/// with each `attempt`.
fn api(shared: &BotShared, index: usize, attempt: usize) -> &LobbyClient {
    let nodes = shared.nodes(index);
    &nodes[(index + attempt) % nodes.len()]
}

impl BotShared {
    /// The lobby API of each node, from bot `index`'s source address.
    fn nodes(&self, index: usize) -> &[LobbyClient] {
        &self.apis[self.sources.group(index) % self.apis.len()]
    }
}

/// A seat by the configured way; a rematch in `lobby` mode uses join-or-create (the lobby's
/// other members are playing).
async fn get_seat(
    index: usize,
    name: &str,
    attempt: usize,
    shared: &BotShared,
) -> Result<SeatGrant, ClientError> {
    let c = &shared.config;
    let api = api(shared, index, attempt);
    match c.seat_mode {
        SeatMode::JoinOrCreate => api.join_or_create(name, &c.game_mode).await,
        SeatMode::Lobby if attempt > 0 => api.join_or_create(name, &c.game_mode).await,
        SeatMode::Quick => {
            let req = CreateTicket {
                player_name: name.to_owned(),
                mode: c.game_mode.clone(),
                region: c.region.clone(),
                skill: Some(1000.0 + (index % 7) as f64 * 40.0),
                party: Vec::new(),
            };
            api.quick_match(&req, Duration::from_secs(60)).await
        }
        SeatMode::Lobby => lobby_seat(index, name, shared).await,
    }
}

async fn lobby_seat(
    index: usize,
    name: &str,
    shared: &BotShared,
) -> Result<SeatGrant, ClientError> {
    let size = shared.config.lobby_size.max(1);
    let (group, member) = (index / size, index % size);
    // Every member of a group uses the node its lobby lives on.
    let api = api(shared, group, 0);
    let slot = shared
        .board
        .slots
        .get(group)
        .ok_or_else(|| ClientError::Protocol("no lobby slot".into()))?;
    let wait = Duration::from_secs(60);
    if member == 0 {
        let req = CreateLobby {
            name: format!("lobby {group}"),
            mode: shared.config.game_mode.clone(),
            max_players: size as u32,
            player_name: name.to_owned(),
            private: false,
        };
        let created = api.create_lobby(&req).await?;
        let id = created.lobby.lobby_id.clone();
        slot.send_replace(Some(id.clone()));
        let owner_key = created
            .owner_key
            .ok_or_else(|| ClientError::Protocol("no owner key".into()))?;
        // Start once every member joined (or after a wait, with whoever came).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if api.lobby(&id, &created.member_key).await?.members.len() >= size {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        api.start_lobby(&id, &owner_key).await?;
        api.wait_for_seat(&id, &created.member_key, wait).await
    } else {
        let mut rx = slot.subscribe();
        let id = tokio::time::timeout(wait, rx.wait_for(Option::is_some))
            .await
            .map_err(|_| ClientError::Timeout("the lobby owner"))?
            .map_err(|_| ClientError::Protocol("lobby board closed".into()))?
            .clone()
            .unwrap_or_default();
        let joined = api
            .join_lobby(
                &id,
                &JoinLobby {
                    player_name: name.to_owned(),
                    join_code: None,
                },
            )
            .await?;
        api.wait_for_seat(&id, &joined.member_key, wait).await
    }
}

/// Warns once per process that the game cannot be steered.
static NO_STEERING: std::sync::Once = std::sync::Once::new();

/// What a bot resolves from the schema of each connection: how to steer (if the game can be
/// steered) and the tally of the game's events.
fn learn(client: &GameClient, mover: &mut Mover) -> (Option<Steering>, EventTally) {
    let schema = client.schema();
    mover.learn(schema);
    let steering = Steering::new(schema);
    if steering.is_none() && mover.sends_inputs() {
        NO_STEERING.call_once(|| {
            tracing::warn!(
                game = %schema.game,
                "the game's input has no signed `{}` and `{}` fields: bots cannot steer it and send only keep-alive pings",
                steering::MOVE_X,
                steering::MOVE_Y,
            );
        });
    }
    (steering, EventTally::new(schema))
}

/// Sends inputs at the input rate and reads frames until stopped; returns whether the connection
/// was still up (false: the room was lost and could not be resumed).
async fn play(
    index: usize,
    mut client: GameClient,
    shared: &BotShared,
    stats: &mut BotStats,
) -> bool {
    let c = &shared.config;
    let tick_rate = f64::from(client.welcome().tick_rate);
    let input_hz = if c.input_hz > 0.0 {
        c.input_hz
    } else {
        tick_rate
    }
    .clamp(*INPUT_HZ.start(), *INPUT_HZ.end());
    let tick_us = (1e6 / tick_rate) as i64;
    let mut mover = Mover::new(c.behavior, c.seed.wrapping_add(index as u64), input_hz);
    let (mut steering, mut tally) = learn(&client, &mut mover);
    let mut inputs = tokio::time::interval(Duration::from_secs_f64(1.0 / input_hz));
    inputs.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut keepalive = tokio::time::interval(Duration::from_secs(5));
    let mut seq: u32 = 0;
    let mut pending: VecDeque<(u32, Instant)> = VecDeque::with_capacity(64);
    let mut last_arrival: Option<Instant> = None;
    let mut resumed = false;
    // Pinned once: a fresh wait per frame would register with the token shared by every bot.
    let stop = shared.stop.clone();
    let stop = stop.cancelled();
    tokio::pin!(stop);
    // Live counters and histograms are shared by every bot: add to them in batches.
    let mut unreported = (0u64, 0u64);
    let (mut tick_to_client, mut input_ack, mut jitter) =
        (Samples::default(), Samples::default(), Samples::default());
    let lat = &shared.latencies;
    // Whether the connection is still up when play ends (then the bot leaves politely).
    let connected = loop {
        if unreported.0 >= LIVE_BATCH {
            shared.live.frames.fetch_add(unreported.0, Relaxed);
            shared.live.bytes.fetch_add(unreported.1, Relaxed);
            unreported = (0, 0);
        }
        let event = tokio::select! {
            _ = &mut stop => break true,
            _ = inputs.tick(), if steering.is_some() && mover.sends_inputs() => {
                let Some(steering) = &steering else { continue };
                seq = seq.wrapping_add(1);
                let input = steering.input(seq, mover.next_intent(client.world()));
                if pending.len() == pending.capacity() {
                    pending.pop_front();
                }
                pending.push_back((seq, Instant::now()));
                if let Err(e) = client.send_input(input).await {
                    stats.error(format!("send_{}", e.label()));
                }
                continue;
            }
            _ = keepalive.tick(), if steering.is_none() || !mover.sends_inputs() => {
                if let Err(e) = client.ping(unix_micros()).await {
                    stats.error(format!("send_{}", e.label()));
                }
                continue;
            }
            event = client.recv() => event,
        };
        match event {
            Ok(Event::Frame {
                server_time_us,
                snapshot,
                bytes,
                desync,
                ..
            }) => {
                let now = Instant::now();
                let recording = lat.recording.load(Relaxed);
                if recording {
                    tick_to_client.push(
                        unix_micros().saturating_sub(server_time_us),
                        &lat.tick_to_client,
                    );
                }
                if let Some(prev) = last_arrival.replace(now)
                    && recording
                {
                    let interval = now.duration_since(prev).as_micros() as i64;
                    jitter.push((interval - tick_us).unsigned_abs(), &lat.frame_jitter);
                }
                stats.frames += 1;
                stats.bytes += bytes as u64;
                stats.snapshots += u64::from(snapshot);
                unreported.0 += 1;
                unreported.1 += bytes as u64;
                match desync {
                    Some(d) => {
                        stats.desyncs += 1;
                        shared.live.desyncs.fetch_add(1, Relaxed);
                        tracing::warn!(bot = index, error = %d, "desync");
                    }
                    None => tally.count(client.world().events()),
                }
                let acked = client.acked_seq();
                while pending.front().is_some_and(|(s, _)| *s <= acked) {
                    if let Some((_, sent)) = pending.pop_front()
                        && recording
                    {
                        input_ack.push(now.duration_since(sent).as_micros() as u64, &lat.input_ack);
                    }
                }
            }
            Ok(Event::Pong { .. }) => {}
            Err(e) => {
                shared.live.failures.fetch_add(1, Relaxed);
                stats.disconnect(e.label());
                tracing::debug!(bot = index, error = %e, "disconnected");
                let code = GameClient::close_code(&e);
                let resumable = !matches!(
                    code,
                    Some(
                        CloseCode::Shutdown
                            | CloseCode::RoomClosed
                            | CloseCode::Kicked
                            | CloseCode::Normal
                    )
                );
                if !(c.resume && resumable) || resumed {
                    break false;
                }
                resumed = true;
                let token = client.welcome().resume_token.clone();
                let url = client.ws_url().to_owned();
                match GameClient::resume_from(&url, &token, client.source()).await {
                    Ok(next) => {
                        client = next;
                        std::mem::take(&mut tally).add_to(&mut stats.events);
                        (steering, tally) = learn(&client, &mut mover);
                        last_arrival = None;
                    }
                    Err(e) => {
                        stats.error(format!("resume_{}", e.label()));
                        break false;
                    }
                }
            }
        }
    };
    shared.live.frames.fetch_add(unreported.0, Relaxed);
    shared.live.bytes.fetch_add(unreported.1, Relaxed);
    tally.add_to(&mut stats.events);
    tick_to_client.flush(&lat.tick_to_client);
    input_ack.flush(&lat.input_ack);
    jitter.flush(&lat.frame_jitter);
    if connected && let Err(e) = client.leave().await {
        stats.error(format!("leave_{}", e.label()));
    }
    connected
}
