//! Runs many bots: ramp-up, a fixed duration, live progress, and the merged report.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::args::MAX_DURATION;
use crate::bot::{self, BotConfig, BotShared, Live, LobbyBoard};
use crate::error::ClientError;
use crate::lobby::LobbyClient;
use crate::source::Sources;
use crate::stats::{BotStats, FrameLatencies, Report};
use crate::throttle;

/// A load run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Base URLs of the server's nodes (one, or every node of a cluster); bots spread their
    /// REST calls over them.
    pub urls: Vec<String>,
    /// Bots to run.
    pub bots: usize,
    /// How long to play after the last bot started.
    pub duration: Duration,
    /// How long after the last bot started frame latencies begin to be recorded (at most half
    /// of `duration`), so that they describe the full load rather than the joins.
    pub settle: Duration,
    /// Bots started per second (0: all at once); at least one a day.
    pub ramp_per_sec: f64,
    /// Bots per source address against a server on IPv4 loopback (see [`Sources`]); 0: off.
    pub bots_per_source: usize,
    /// Bot settings.
    pub bot: BotConfig,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
}

/// Runs the plan until its duration ends or `interrupt` fires; returns the merged report.
pub async fn run(plan: LoadPlan, interrupt: CancellationToken) -> Result<Report, ClientError> {
    let started = Instant::now();
    let base = plan
        .urls
        .first()
        .ok_or_else(|| ClientError::Protocol("no server URL to run against".into()))?;
    let first = LobbyClient::new(base)?;
    let sources = Sources::plan(&plan.urls, plan.bots_per_source);
    let apis = (0..sources.groups(plan.bots))
        .map(|group| {
            let client = first.with_source(sources.addr(group))?;
            Ok(plan.urls.iter().map(|url| client.at(url)).collect())
        })
        .collect::<Result<Vec<Arc<[LobbyClient]>>, ClientError>>()?
        .into();
    let live = Arc::new(Live::default());
    let stop = CancellationToken::new();
    let groups = plan.bots.div_ceil(plan.bot.lobby_size.max(1));
    let shared = BotShared {
        config: Arc::new(plan.bot.clone()),
        apis,
        sources,
        live: live.clone(),
        board: Arc::new(LobbyBoard::new(groups)),
        latencies: Arc::default(),
        stop: stop.clone(),
    };
    let bar = progress_bar(&plan);
    let mut status = Status {
        bar: &bar,
        live: &live,
        api: &first,
        hinted: false,
    };
    let mut set = JoinSet::new();
    let gap = if plan.ramp_per_sec > 0.0 {
        Duration::try_from_secs_f64(1.0 / plan.ramp_per_sec)
            .map_or(MAX_DURATION, |gap| gap.min(MAX_DURATION))
    } else {
        Duration::ZERO
    };
    let mut next_start = tokio::time::Instant::now();
    for i in 0..plan.bots {
        if !gap.is_zero() {
            next_start += gap;
            tokio::select! {
                _ = interrupt.cancelled() => break,
                _ = tokio::time::sleep_until(next_start) => {}
            }
        }
        set.spawn(bot::run(i, shared.clone()));
        if i % 64 == 0 {
            status.update(i + 1);
        }
    }
    let window = if interrupt.is_cancelled() {
        Duration::ZERO
    } else {
        play_until_end(&plan, &shared.latencies, &interrupt, &mut status).await
    };
    let interrupted = interrupt.is_cancelled();
    stop.cancel();
    bar.set_message("stopping bots…");
    let mut results: Vec<BotStats> = Vec::with_capacity(plan.bots);
    let collect = async {
        while let Some(r) = set.join_next().await {
            match r {
                Ok(stats) => results.push(stats),
                Err(e) => {
                    let mut s = BotStats::default();
                    s.error(if e.is_panic() {
                        "bot_panicked".into()
                    } else {
                        "bot_cancelled".into()
                    });
                    results.push(s);
                }
            }
        }
    };
    // Bots leave politely; give them a bounded time to do so.
    if tokio::time::timeout(Duration::from_secs(10), collect)
        .await
        .is_err()
    {
        set.abort_all();
    }
    bar.finish_and_clear();
    Ok(Report::from_bots(
        &results,
        &shared.latencies,
        first.throttling(),
        started.elapsed(),
        window,
        interrupted,
    ))
}

fn progress_bar(plan: &LoadPlan) -> ProgressBar {
    let target = if plan.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(plan.bots as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} bots started  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Lets every bot play for the plan's duration (or until `interrupt` fires), recording frame
/// latencies from the end of the settle period; returns how long they were recorded.
async fn play_until_end(
    plan: &LoadPlan,
    latencies: &FrameLatencies,
    interrupt: &CancellationToken,
    status: &mut Status<'_>,
) -> Duration {
    let all_started = tokio::time::Instant::now();
    let end = all_started + plan.duration;
    let settled = all_started + plan.settle.min(plan.duration / 2);
    let mut recording_since = None;
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    while tokio::time::Instant::now() < end {
        tokio::select! {
            _ = interrupt.cancelled() => break,
            _ = tokio::time::sleep_until(end) => {}
            _ = tokio::time::sleep_until(settled), if recording_since.is_none() => {
                latencies.recording.store(true, Relaxed);
                recording_since = Some(tokio::time::Instant::now());
            }
            _ = ticker.tick() => status.update(plan.bots),
        }
    }
    recording_since.map_or(Duration::ZERO, |t| t.elapsed())
}

/// The live line, and the one-time throttling hint.
struct Status<'a> {
    bar: &'a ProgressBar,
    live: &'a Live,
    api: &'a LobbyClient,
    /// Whether the throttling hint was printed.
    hinted: bool,
}

impl Status<'_> {
    /// Shows the live counters; the first time the server answers 429, prints the hint to stderr
    /// (also when there is no progress bar, as when stderr is not a terminal).
    fn update(&mut self, started: usize) {
        let live = self.live;
        let throttling = self.api.throttling();
        self.bar.set_position(started as u64);
        self.bar.set_message(format!(
            "connected {}  frames {}  {:.1} MB  desyncs {}  failures {}  429s {} (waited {:.1} s)",
            live.connected.load(Relaxed),
            live.frames.load(Relaxed),
            live.bytes.load(Relaxed) as f64 / 1e6,
            live.desyncs.load(Relaxed),
            live.failures.load(Relaxed),
            throttling.responses,
            throttling.waited.as_secs_f64(),
        ));
        if throttling.responses > 0 && !self.hinted {
            self.hinted = true;
            self.bar
                .suspend(|| eprintln!("client-sim: {}", throttle::HINT));
        }
    }
}
