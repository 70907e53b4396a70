//! Quick-match tickets and the matcher.
//!
//! Searching tickets wait in one queue per mode and region. Every pass (10 per second, on a
//! blocking thread, never on the async workers) the matcher takes the queues, drops the
//! tickets cancelled or expired since, and groups each queue with [`matcher::form_groups`]:
//! oldest ticket first, the unmatched tickets within its skill window, closest first, until a
//! room is full. The window starts at `--skill-window` and widens by `--skill-widen-per-sec`
//! rating points per second of waiting; a group short of a full room still matches once its
//! oldest ticket has waited `--match-wait`, or with bots in the missing seats once it has
//! waited `--fill-with-bots-after`. A party is one ticket and always lands whole. The
//! caps on searching tickets (`--max-tickets`, `--tickets-per-addr`) are taken atomically at
//! creation. On a cluster node (`--redis`) the tickets live in Redis and only the node holding
//! the matcher lease runs passes, over the cluster's queue (see [`Matchmaker`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use protocol::api::{CreateTicket, JoinOrCreate, SeatGrant, TicketStatus, TicketView};

use super::caps::Slots;
use super::matcher::{self, Grouping, Waiting};
use super::modes::ModeSet;
use super::seats::SeatBook;
use super::store::{Backend, Store, StoreError, unix_time};
use super::{LobbyError, validate};
use crate::cluster::keys;
use crate::room::{RegistryError, RoomHandle, RoomRegistry, random_token};

/// How long a finished ticket stays readable.
pub const FINISHED_TICKET_TTL: Duration = Duration::from_secs(60);
/// The skill of a ticket that gives none: the middle of the range.
const DEFAULT_SKILL: f64 = 1_000.0;

/// One ticket.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ticket {
    /// Its id.
    pub id: String,
    /// Who created it.
    pub owner_addr: IpAddr,
    /// The owner first, then the party.
    pub players: Vec<String>,
    /// Mode.
    pub mode: String,
    /// Region.
    pub region: String,
    /// Skill rating (the mid-range 1,000 when not given).
    pub skill: f64,
    /// When it was created.
    #[serde(with = "unix_time")]
    pub created: Instant,
    /// Where it stands.
    pub status: TicketStatus,
    /// When it left `searching`.
    #[serde(with = "unix_time::option")]
    pub finished: Option<Instant>,
    /// Seats once matched, in `players` order.
    pub seats: Vec<SeatGrant>,
}

impl Ticket {
    /// How long the cluster's store keeps the ticket after its last change: while searching,
    /// its search (`search`) and then as long as a finished ticket stays readable.
    pub fn ttl(&self, search: Duration) -> Duration {
        match self.status {
            TicketStatus::Searching => search + FINISHED_TICKET_TTL,
            _ => FINISHED_TICKET_TTL,
        }
    }

    /// The ticket as the matcher sees it.
    fn waiting(&self) -> Waiting {
        Waiting {
            id: self.id.clone(),
            owner_addr: self.owner_addr,
            skill: self.skill,
            created: self.created,
            players: self.players.len(),
        }
    }

    /// Moves a searching ticket to `status`; returns when it finished.
    fn finish(&mut self, status: TicketStatus) -> Instant {
        let now = Instant::now();
        self.status = status;
        self.finished = Some(now);
        now
    }

    /// The API view of the ticket.
    pub fn view(&self) -> TicketView {
        let until = self.finished.unwrap_or_else(Instant::now);
        let own = self.seats.first();
        TicketView {
            ticket_id: self.id.clone(),
            status: self.status,
            mode: self.mode.clone(),
            region: self.region.clone(),
            waited_ms: until.saturating_duration_since(self.created).as_millis() as u64,
            room_id: own.map(|s| s.room_id),
            ws_url: own.map(|s| s.ws_url.clone()),
            seat_token: own.map(|s| s.seat_token.clone()),
            player_id: own.map(|s| s.player_id),
            seats: self.seats.clone(),
        }
    }
}

/// How the matcher forms matches.
#[derive(Debug, Clone)]
pub struct MatchRules {
    /// Skill window at the start.
    pub skill_window: f64,
    /// Window growth per second of waiting.
    pub widen_per_sec: f64,
    /// Wait after which a partial room is accepted.
    pub match_wait: Duration,
    /// Wait after which a partial room is accepted with bots in its missing seats.
    pub fill_with_bots_after: Option<Duration>,
    /// Lifetime of a searching ticket.
    pub ticket_ttl: Duration,
    /// Searching tickets per client address.
    pub per_addr: usize,
    /// Searching tickets on the server.
    pub max_tickets: usize,
    /// The modes tickets and join-or-create may ask for.
    pub modes: ModeSet,
}

impl MatchRules {
    /// How groups of a room of `capacity` form.
    fn grouping(&self, capacity: usize) -> Grouping {
        Grouping {
            capacity,
            skill_window: self.skill_window,
            widen_per_sec: self.widen_per_sec,
            match_wait: self.match_wait,
            fill_with_bots_after: self.fill_with_bots_after,
        }
    }
}

/// A queue's key: mode and region.
type QueueKey = (String, String);

/// Locks a mutex whose data stays valid even if a holder panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Tickets and the matcher.
///
/// In memory, the matcher's queues are kept here as tickets come and go. In the cluster's
/// store, every node adds its new tickets to one sorted set ([`keys::TICKET_QUEUE`]) that the
/// node holding the matcher lease reads at each pass; a ticket changes state only through
/// [`Store::update`], so a pass that overlaps a cancel, or another node's pass, never seats a
/// ticket twice.
#[derive(Debug)]
pub struct Matchmaker {
    tickets: Backend<Ticket>,
    seats: Arc<SeatBook>,
    registry: Arc<RoomRegistry>,
    rules: MatchRules,
    caps: Slots,
    /// In memory: searching tickets by mode and region, as the matcher sees them.
    queues: Mutex<HashMap<QueueKey, Vec<Waiting>>>,
    /// In memory: tickets cancelled since the last pass.
    cancelled: Mutex<Vec<String>>,
    /// In memory: tickets that left `searching`, oldest first, to forget after
    /// [`FINISHED_TICKET_TTL`] (Redis forgets them by their TTL).
    finished: Mutex<VecDeque<(Instant, String)>>,
}

impl Matchmaker {
    /// A matchmaker over `tickets`, its searching tickets counted by `caps`.
    pub fn new(
        tickets: Backend<Ticket>,
        caps: Slots,
        seats: Arc<SeatBook>,
        registry: Arc<RoomRegistry>,
        rules: MatchRules,
    ) -> Self {
        Self {
            caps,
            tickets,
            seats,
            registry,
            rules,
            queues: Mutex::default(),
            cancelled: Mutex::default(),
            finished: Mutex::default(),
        }
    }

    /// Validates and queues a new searching ticket.
    pub async fn create(&self, req: CreateTicket, addr: IpAddr) -> Result<TicketView, LobbyError> {
        self.validate(&req)?;
        let id = random_token();
        self.caps.acquire(addr, &id).await?;
        let skill = req.skill.unwrap_or(DEFAULT_SKILL);
        let ticket = Ticket {
            id,
            owner_addr: addr,
            players: std::iter::once(req.player_name).chain(req.party).collect(),
            mode: req.mode,
            region: req.region,
            skill,
            created: Instant::now(),
            status: TicketStatus::Searching,
            finished: None,
            seats: Vec::new(),
        };
        let view = ticket.view();
        match &self.tickets {
            Backend::Memory(m) => {
                let (waiting, key) = (
                    ticket.waiting(),
                    (ticket.mode.clone(), ticket.region.clone()),
                );
                m.put(ticket.id.clone(), ticket);
                lock(&self.queues).entry(key).or_default().push(waiting);
            }
            Backend::Shared(r) => {
                let queue = [keys::TICKET_QUEUE.to_owned()];
                let created = unix_time::to_unix(ticket.created) as f64;
                if let Err(e) = r.insert_indexed(&ticket.id, &ticket, &queue, created).await {
                    self.caps.release(addr, &ticket.id).await;
                    return Err(e.into());
                }
            }
        }
        Ok(view)
    }

    /// Checks a ticket request's fields.
    fn validate(&self, req: &CreateTicket) -> Result<(), LobbyError> {
        validate::player_name("player_name", &req.player_name)?;
        self.rules.modes.check(&req.mode)?;
        validate::tag("region", &req.region)?;
        validate::skill(req.skill.unwrap_or(DEFAULT_SKILL))?;
        let capacity = self.registry.capacity_for(&req.mode) as usize;
        if req.party.len() + 1 > capacity {
            return Err(LobbyError::Invalid {
                field: "party",
                message: format!("has more players than a room holds ({capacity})"),
            });
        }
        let mut names = HashSet::from([req.player_name.as_str()]);
        for member in &req.party {
            validate::player_name("party", member)?;
            if !names.insert(member) {
                return Err(LobbyError::Invalid {
                    field: "party",
                    message: format!("names `{member}` twice"),
                });
            }
        }
        Ok(())
    }

    /// Checks a join-or-create request's fields.
    pub fn check_join(&self, req: &JoinOrCreate) -> Result<(), LobbyError> {
        validate::player_name("player_name", &req.player_name)?;
        self.rules.modes.check(&req.mode)
    }

    /// A seat right now: in an open room of the mode, or in a new room opened for `addr`.
    pub async fn join_or_create(
        &self,
        req: &JoinOrCreate,
        addr: IpAddr,
    ) -> Result<SeatGrant, LobbyError> {
        self.check_join(req)?;
        let (room, player_id) = self.registry.seat_in_any(&req.mode, addr)?;
        self.seats.book(&room, player_id, &req.player_name).await
    }

    /// One ticket.
    pub async fn get(&self, id: &str) -> Result<TicketView, LobbyError> {
        self.tickets
            .get(id)
            .await?
            .map(|t| t.view())
            .ok_or(LobbyError::NotFound("ticket"))
    }

    /// Cancels a searching ticket; a matched one cannot be cancelled.
    pub async fn cancel(&self, id: &str) -> Result<TicketView, LobbyError> {
        let cancelled = self
            .tickets
            .update(id, |t| match t.status {
                TicketStatus::Searching => {
                    let at = t.finish(TicketStatus::Cancelled);
                    Ok((t.view(), Some((t.owner_addr, at))))
                }
                TicketStatus::Matched => Err(LobbyError::Conflict("the ticket is already matched")),
                _ => Ok((t.view(), None)),
            })
            .await?
            .ok_or(LobbyError::NotFound("ticket"))?;
        let (view, finished) = cancelled?;
        // Only a ticket this call cancelled: repeated cancels must not grow the list.
        if let Some((owner, at)) = finished {
            self.caps.release(owner, id).await;
            if self.record_finished(id, at) {
                lock(&self.cancelled).push(id.to_owned());
            }
        }
        Ok(view)
    }

    /// In memory, queues a finished ticket to be forgotten after [`FINISHED_TICKET_TTL`];
    /// returns whether it did. Must not be called with a store lock held:
    /// [`Self::forget_finished`] takes the two the other way.
    fn record_finished(&self, id: &str, at: Instant) -> bool {
        let here = self.tickets.memory().is_some();
        if here {
            lock(&self.finished).push_back((at, id.to_owned()));
        }
        here
    }

    /// One matcher pass: forget long-finished tickets, drop cancelled and expired ones from
    /// the queues, form matches. In memory its futures never wait (its work is blocking: run it
    /// off the async workers); in the cluster's store it waits on Redis.
    pub async fn run_pass(&self) {
        let now = Instant::now();
        let mut queues = match self.queued(now).await {
            Ok(queues) => queues,
            Err(e) => {
                tracing::warn!(error = %e, "the matcher cannot read the queue; it tries again");
                return;
            }
        };
        for ((mode, _), queue) in &mut queues {
            let mut expired = Vec::new();
            queue.retain(|w| {
                let searching = now.saturating_duration_since(w.created) < self.rules.ticket_ttl;
                if !searching {
                    expired.push(w.clone());
                }
                searching
            });
            for w in &expired {
                self.expire(w).await;
            }
            let grouping = self
                .rules
                .grouping(self.registry.capacity_for(mode) as usize);
            let mut leaving = vec![false; queue.len()];
            for group in matcher::form_groups(queue, &grouping, now) {
                let members: Vec<&Waiting> = group.iter().map(|&i| &queue[i]).collect();
                let players: usize = members.iter().map(|w| w.players).sum();
                let waited = members
                    .first()
                    .map_or(Duration::ZERO, |w| now.saturating_duration_since(w.created));
                let bots = players < grouping.capacity && grouping.fills_with_bots(waited);
                let left = self.seat_group(mode, &members, bots).await;
                for (i, gone) in group.into_iter().zip(left) {
                    leaving[i] = gone;
                }
            }
            let mut index = 0..;
            queue.retain(|_| index.next().is_some_and(|i| !leaving[i]));
        }
        if self.tickets.memory().is_some() {
            self.requeue(queues);
        }
    }

    /// The searching tickets by mode and region, oldest first: in memory, the queues (less the
    /// tickets cancelled since the last pass, after forgetting long-finished ones); in the
    /// cluster's store, read from the shared queue, whose tickets no longer searching are
    /// dropped from it.
    async fn queued(&self, now: Instant) -> Result<HashMap<QueueKey, Vec<Waiting>>, StoreError> {
        let Backend::Shared(r) = &self.tickets else {
            self.forget_finished(now);
            let mut queues = std::mem::take(&mut *lock(&self.queues));
            let cancelled: HashSet<String> = std::mem::take(&mut *lock(&self.cancelled))
                .into_iter()
                .collect();
            if !cancelled.is_empty() {
                for queue in queues.values_mut() {
                    queue.retain(|w| !cancelled.contains(&w.id));
                }
            }
            return Ok(queues);
        };
        let (_, tickets) = r.page(keys::TICKET_QUEUE, 0, usize::MAX).await?;
        let mut queues: HashMap<QueueKey, Vec<Waiting>> = HashMap::new();
        let mut done = Vec::new();
        for t in tickets {
            if t.status == TicketStatus::Searching {
                let key = (t.mode.clone(), t.region.clone());
                queues.entry(key).or_default().push(t.waiting());
            } else {
                done.push(t.id);
            }
        }
        if !done.is_empty() {
            r.unindex_all(keys::TICKET_QUEUE, &done).await?;
        }
        Ok(queues)
    }

    /// In memory, puts the tickets still searching back ahead of those queued during the pass.
    fn requeue(&self, queues: HashMap<QueueKey, Vec<Waiting>>) {
        let mut live = lock(&self.queues);
        for (key, mut queue) in queues {
            if let Some(newer) = live.remove(&key) {
                queue.extend(newer);
            }
            if !queue.is_empty() {
                live.insert(key, queue);
            }
        }
    }

    /// Expires a ticket that has searched for its whole lifetime.
    async fn expire(&self, w: &Waiting) {
        let expired = self
            .tickets
            .update(&w.id, |t| {
                (t.status == TicketStatus::Searching)
                    .then(|| (t.owner_addr, t.finish(TicketStatus::Expired)))
            })
            .await;
        match expired {
            Ok(Some(Some((owner, at)))) => {
                self.caps.release(owner, &w.id).await;
                self.record_finished(&w.id, at);
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "cannot expire a ticket now"),
        }
    }

    /// Removes tickets finished longer than [`FINISHED_TICKET_TTL`] ago. The ids are taken
    /// under the `finished` mutex, and the mutex is released before the store is touched.
    fn forget_finished(&self, now: Instant) {
        let mut old = Vec::new();
        {
            let mut finished = lock(&self.finished);
            while let Some((at, _)) = finished.front() {
                if now.saturating_duration_since(*at) < FINISHED_TICKET_TTL {
                    break;
                }
                old.extend(finished.pop_front().map(|(_, id)| id));
            }
        }
        if let Some(tickets) = self.tickets.memory() {
            for id in old {
                tickets.take(&id);
            }
        }
    }

    /// Opens a room for a group (counted against the address of its oldest ticket) and hands
    /// every player a seat. Returns, in group order, whether each ticket leaves the queue:
    /// matched, or cancelled or gone since. A ticket that got fewer seats than players stays
    /// searching and queued. Seats a ticket cannot take are given back only once the whole
    /// group is seated, so the room never looks abandoned halfway; a room in which no ticket
    /// was matched is closed at once. With `bots`, bots fill the room's missing seats.
    async fn seat_group(&self, mode: &str, group: &[&Waiting], bots: bool) -> Vec<bool> {
        let Some(anchor) = group.first() else {
            return Vec::new();
        };
        let room = match self.registry.create(mode, anchor.owner_addr) {
            Ok(room) => room,
            Err(e @ RegistryError::TooManyUnenteredRooms(_)) => {
                tracing::debug!(error = %e, addr = %anchor.owner_addr, "tickets keep searching");
                return vec![false; group.len()];
            }
            Err(e) => {
                tracing::warn!(error = %e, "matchmaker cannot open a room; tickets keep searching");
                return vec![false; group.len()];
            }
        };
        if bots {
            room.fill_with_bots(room.capacity);
        }
        let mut give_back = Vec::new();
        let mut seated = Vec::with_capacity(group.len());
        for waiting in group {
            seated.push(self.seat_ticket(&room, waiting, &mut give_back).await);
        }
        for seat in give_back {
            self.seats.cancel(&seat.seat_token);
        }
        let matched = seated.iter().filter(|s| **s == Seating::Matched).count();
        if matched == 0 {
            self.registry.close_if_abandoned(room.id);
        } else {
            tracing::info!(
                room = room.id,
                mode,
                tickets = matched,
                bots,
                "match formed"
            );
        }
        seated.iter().map(|s| *s != Seating::Searching).collect()
    }

    /// Reserves a seat in `room` for every player of one searching ticket and marks it
    /// matched. Seats it cannot keep (too few for its players, or the ticket was cancelled
    /// meanwhile) go to `give_back`.
    async fn seat_ticket(
        &self,
        room: &RoomHandle,
        waiting: &Waiting,
        give_back: &mut Vec<SeatGrant>,
    ) -> Seating {
        let players = match self.tickets.get(&waiting.id).await {
            Ok(Some(t)) if t.status == TicketStatus::Searching => t.players,
            Ok(_) => return Seating::Gone,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read a ticket now; it keeps searching");
                return Seating::Searching;
            }
        };
        let mut seats = Vec::with_capacity(players.len());
        for name in &players {
            match self.seats.reserve(room, name).await {
                Ok(seat) => seats.push(seat),
                Err(e) => {
                    tracing::error!(error = %e, room = room.id, "a matched room had no seat");
                    give_back.extend(seats);
                    return Seating::Searching;
                }
            }
        }
        let matched = self
            .tickets
            .update(&waiting.id, |t| {
                (t.status == TicketStatus::Searching).then(|| {
                    t.seats.clone_from(&seats);
                    (t.owner_addr, t.finish(TicketStatus::Matched))
                })
            })
            .await;
        match matched {
            Ok(Some(Some((owner, at)))) => {
                self.caps.release(owner, &waiting.id).await;
                self.record_finished(&waiting.id, at);
                Seating::Matched
            }
            // Cancelled or gone since it was read: its seats go back.
            Ok(_) => {
                give_back.extend(seats);
                Seating::Gone
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot mark a ticket matched now; it keeps searching");
                give_back.extend(seats);
                Seating::Searching
            }
        }
    }
}

/// What became of one ticket of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seating {
    /// It has a seat for every player.
    Matched,
    /// It was cancelled, expired or removed before it could be seated.
    Gone,
    /// It got fewer seats than players and keeps searching.
    Searching,
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::mpsc;
    use std::thread;

    use futures_util::FutureExt as _;

    use super::*;
    use crate::{App, Config};

    /// The answer of a future of the in-memory store, which is ready at its first poll.
    fn now<F: std::future::Future>(f: F) -> F::Output {
        f.now_or_never().expect("in memory, an answer at once")
    }

    fn app() -> (Arc<App>, tokio_util::sync::CancellationToken) {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let config = Config {
            max_tickets: 100_000,
            tickets_per_addr: 100_000,
            tick_threads: 1,
            modes: vec!["*".into()],
            ..Config::default()
        };
        let app = App::start(
            config,
            crate::GameCatalog::builtin(),
            "http://127.0.0.1:1".into(),
            shutdown.clone(),
        )
        .expect("app starts");
        (app, shutdown)
    }

    fn ticket(i: usize, party: usize) -> CreateTicket {
        CreateTicket {
            player_name: format!("p{i}"),
            mode: "test".into(),
            region: "eu".into(),
            skill: Some(1_000.0),
            party: (0..party).map(|k| format!("p{i}m{k}")).collect(),
        }
    }

    const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    /// Opens `n` searching tickets of one player each; returns their ids.
    fn open_lone_tickets(app: &App, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                now(app.matchmaker.create(ticket(i, 0), ADDR))
                    .expect("created")
                    .ticket_id
            })
            .collect()
    }

    #[test]
    fn cancelling_while_old_tickets_are_forgotten_does_not_deadlock() {
        let (app, shutdown) = app();
        let ids = open_lone_tickets(&app, 20_000);
        let (done, finished) = mpsc::channel();
        let forgetter = {
            let (app, done) = (app.clone(), done.clone());
            thread::spawn(move || {
                let later = Instant::now() + FINISHED_TICKET_TTL * 2;
                for _ in 0..200_000 {
                    app.matchmaker.forget_finished(later);
                }
                let _ = done.send(());
            })
        };
        let canceller = {
            let app = app.clone();
            thread::spawn(move || {
                for id in &ids {
                    let _ = now(app.matchmaker.cancel(id));
                }
                let _ = done.send(());
            })
        };
        for _ in 0..2 {
            finished
                .recv_timeout(Duration::from_secs(60))
                .expect("cancel and forget_finished deadlocked");
        }
        let _ = (forgetter.join(), canceller.join());
        shutdown.cancel();
    }

    #[test]
    fn repeated_cancels_queue_the_ticket_once() {
        let (app, shutdown) = app();
        let id = now(app.matchmaker.create(ticket(0, 0), ADDR))
            .expect("created")
            .ticket_id;
        for _ in 0..3 {
            let view = now(app.matchmaker.cancel(&id)).expect("cancel answers");
            assert_eq!(view.status, TicketStatus::Cancelled);
        }
        assert_eq!(*lock(&app.matchmaker.cancelled), [id]);
        shutdown.cancel();
    }

    fn waiting_for(app: &App, id: &str) -> Waiting {
        let tickets = app.matchmaker.tickets.memory().expect("in memory");
        tickets.read(id).expect("stored").waiting()
    }

    #[test]
    fn a_group_cancelled_before_it_is_seated_leaves_no_open_room() {
        let (app, shutdown) = app();
        let ids = open_lone_tickets(&app, 2);
        let group: Vec<Waiting> = ids.iter().map(|id| waiting_for(&app, id)).collect();
        for id in &ids {
            now(app.matchmaker.cancel(id)).expect("cancelled");
        }
        let left = now(app
            .matchmaker
            .seat_group("test", &group.iter().collect::<Vec<_>>(), false));
        assert_eq!(left, [true, true], "cancelled tickets leave the queue");
        assert_eq!(app.registry.len(), 0, "the room without a seat is closed");
        shutdown.cancel();
    }

    #[test]
    fn a_ticket_short_of_seats_keeps_searching_and_its_room_closes() {
        let (app, shutdown) = app();
        let capacity = app.registry.capacity_for("test") as usize;
        let id = now(app.matchmaker.create(ticket(0, capacity - 1), ADDR))
            .expect("created")
            .ticket_id;
        // One player more than a room holds (validation refuses this; a room that fills or
        // closes under the matcher does the same).
        let tickets = app.matchmaker.tickets.memory().expect("in memory");
        tickets.change(&id, |t| t.players.push("late".into()));
        let group = [waiting_for(&app, &id)];
        let left = now(app
            .matchmaker
            .seat_group("test", &group.iter().collect::<Vec<_>>(), false));
        assert_eq!(left, [false], "it stays queued");
        let view = now(app.matchmaker.get(&id)).expect("readable");
        assert_eq!(view.status, TicketStatus::Searching);
        assert!(view.seats.is_empty());
        assert_eq!(
            app.registry.len(),
            0,
            "the seats went back and the room closed"
        );
        shutdown.cancel();
    }
}
