//! Quick-match tickets and the matcher.
//!
//! Every pass (10 per second) the matcher groups searching tickets by mode and region and, oldest
//! ticket first, gathers the tickets whose skill lies within the oldest one's window, closest
//! first, until a room is full. The window starts at `--skill-window` and widens by
//! `--skill-widen` per second of waiting. A group short of a full room still matches once its
//! oldest ticket has waited `--match-wait`. A party is one ticket and always lands whole.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::api::{CreateTicket, JoinOrCreate, SeatGrant, TicketStatus, TicketView};

use super::modes::ModeSet;
use super::seats::SeatBook;
use super::store::Store;
use super::{LobbyError, validate};
use crate::room::{RegistryError, RoomRegistry, random_token};

/// How long a finished ticket stays readable.
const FINISHED_TICKET_TTL: Duration = Duration::from_secs(60);

/// One ticket.
#[derive(Debug, Clone)]
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
    pub created: Instant,
    /// Where it stands.
    pub status: TicketStatus,
    /// When it left `searching`.
    pub finished: Option<Instant>,
    /// Seats once matched, in `players` order.
    pub seats: Vec<SeatGrant>,
}

impl Ticket {
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
    /// The skill window of a ticket that has waited `waited`.
    pub fn window(&self, waited: Duration) -> f64 {
        self.skill_window + self.widen_per_sec * waited.as_secs_f64()
    }
}

/// Tickets and the matcher.
#[derive(Debug)]
pub struct Matchmaker {
    tickets: Arc<dyn Store<Ticket>>,
    seats: Arc<SeatBook>,
    registry: Arc<RoomRegistry>,
    rules: MatchRules,
}

impl Matchmaker {
    /// A matchmaker over `tickets`.
    pub fn new(
        tickets: Arc<dyn Store<Ticket>>,
        seats: Arc<SeatBook>,
        registry: Arc<RoomRegistry>,
        rules: MatchRules,
    ) -> Self {
        Self {
            tickets,
            seats,
            registry,
            rules,
        }
    }

    /// Validates and stores a new searching ticket.
    pub fn create(&self, req: CreateTicket, addr: IpAddr) -> Result<TicketView, LobbyError> {
        validate::player_name("player_name", &req.player_name)?;
        self.rules.modes.check(&req.mode)?;
        validate::tag("region", &req.region)?;
        let skill = req.skill.unwrap_or(1_000.0);
        validate::skill(skill)?;
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
        let searching = self
            .tickets
            .collect(&mut |t| t.status == TicketStatus::Searching);
        if searching.len() >= self.rules.max_tickets {
            return Err(LobbyError::Limit(format!(
                "the server holds {} searching tickets",
                self.rules.max_tickets
            )));
        }
        if searching.iter().filter(|t| t.owner_addr == addr).count() >= self.rules.per_addr {
            return Err(LobbyError::Limit(format!(
                "{} searching tickets per address",
                self.rules.per_addr
            )));
        }
        let ticket = Ticket {
            id: random_token(),
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
        self.tickets.insert(ticket.id.clone(), ticket);
        Ok(view)
    }

    /// A seat right now: in an open room of the mode, or in a new room opened for `addr`.
    pub fn join_or_create(
        &self,
        req: &JoinOrCreate,
        addr: IpAddr,
    ) -> Result<SeatGrant, LobbyError> {
        validate::player_name("player_name", &req.player_name)?;
        self.rules.modes.check(&req.mode)?;
        let (room, player_id) = self.registry.seat_in_any(&req.mode, addr)?;
        Ok(self.seats.book(&room, player_id, &req.player_name))
    }

    /// One ticket.
    pub fn get(&self, id: &str) -> Result<TicketView, LobbyError> {
        self.tickets
            .get(id)
            .map(|t| t.view())
            .ok_or(LobbyError::NotFound("ticket"))
    }

    /// Cancels a searching ticket; a matched one cannot be cancelled.
    pub fn cancel(&self, id: &str) -> Result<TicketView, LobbyError> {
        let mut result = Err(LobbyError::NotFound("ticket"));
        self.tickets.update(id, &mut |t| {
            result = match t.status {
                TicketStatus::Searching => {
                    t.status = TicketStatus::Cancelled;
                    t.finished = Some(Instant::now());
                    Ok(t.view())
                }
                TicketStatus::Matched => Err(LobbyError::Conflict("the ticket is already matched")),
                _ => Ok(t.view()),
            };
        });
        result
    }

    /// One matcher pass: expire old tickets, drop long-finished ones, form matches.
    pub fn run_pass(&self) {
        let now = Instant::now();
        let ttl = self.rules.ticket_ttl;
        self.tickets.retain(&mut |_, t| {
            if t.status == TicketStatus::Searching && now.duration_since(t.created) >= ttl {
                t.status = TicketStatus::Expired;
                t.finished = Some(now);
            }
            t.finished
                .is_none_or(|f| now.duration_since(f) < FINISHED_TICKET_TTL)
        });
        let mut groups: HashMap<(String, String), Vec<Ticket>> = HashMap::new();
        for t in self
            .tickets
            .collect(&mut |t| t.status == TicketStatus::Searching)
        {
            groups
                .entry((t.mode.clone(), t.region.clone()))
                .or_default()
                .push(t);
        }
        for ((mode, _), mut tickets) in groups {
            tickets.sort_by_key(|t| t.created);
            let capacity = self.registry.capacity_for(&mode) as usize;
            for group in self.form_groups(&tickets, capacity, now) {
                self.seat_group(&mode, &group);
            }
        }
    }

    /// Splits tickets (oldest first) into the groups that match now.
    fn form_groups<'a>(
        &self,
        tickets: &'a [Ticket],
        capacity: usize,
        now: Instant,
    ) -> Vec<Vec<&'a Ticket>> {
        let mut used = vec![false; tickets.len()];
        let mut groups = Vec::new();
        for (anchor_i, anchor) in tickets.iter().enumerate() {
            if used[anchor_i] {
                continue;
            }
            let waited = now.duration_since(anchor.created);
            let window = self.rules.window(waited);
            let mut candidates: Vec<usize> = (anchor_i + 1..tickets.len())
                .filter(|&i| !used[i] && (tickets[i].skill - anchor.skill).abs() <= window)
                .collect();
            candidates.sort_by(|&a, &b| {
                let da = (tickets[a].skill - anchor.skill).abs();
                let db = (tickets[b].skill - anchor.skill).abs();
                da.total_cmp(&db)
            });
            let mut members = vec![anchor_i];
            let mut size = anchor.players.len();
            for i in candidates {
                if size + tickets[i].players.len() <= capacity {
                    size += tickets[i].players.len();
                    members.push(i);
                }
                if size == capacity {
                    break;
                }
            }
            if size == capacity || waited >= self.rules.match_wait {
                for &i in &members {
                    used[i] = true;
                }
                groups.push(members.into_iter().map(|i| &tickets[i]).collect());
            }
        }
        groups
    }

    /// Opens a room for a group (counted against the address of its oldest ticket) and hands
    /// every player a seat.
    fn seat_group(&self, mode: &str, group: &[&Ticket]) {
        let Some(anchor) = group.first() else {
            return;
        };
        let room = match self.registry.create(mode, anchor.owner_addr) {
            Ok(room) => room,
            Err(e @ RegistryError::TooManyUnenteredRooms(_)) => {
                tracing::debug!(error = %e, addr = %anchor.owner_addr, "tickets keep searching");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "matchmaker cannot open a room; tickets keep searching");
                return;
            }
        };
        let now = Instant::now();
        for ticket in group {
            let mut seats = Vec::with_capacity(ticket.players.len());
            for name in &ticket.players {
                match self.seats.reserve(&room, name) {
                    Ok(seat) => seats.push(seat),
                    Err(e) => {
                        tracing::error!(error = %e, room = room.id, "a matched room had no seat")
                    }
                }
            }
            let mut seats = Some(seats);
            let updated = self.tickets.update(&ticket.id, &mut |t| {
                if t.status == TicketStatus::Searching {
                    t.status = TicketStatus::Matched;
                    t.finished = Some(now);
                    t.seats = seats.take().unwrap_or_default();
                }
            });
            // Cancelled or gone since this pass read it: give its seats back.
            for seat in seats.into_iter().flatten() {
                self.seats.cancel(&seat.seat_token);
            }
            if !updated {
                tracing::debug!(ticket = %ticket.id, "ticket vanished while matching");
            }
        }
        tracing::info!(room = room.id, mode, tickets = group.len(), "match formed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MatchRules {
        MatchRules {
            skill_window: 100.0,
            widen_per_sec: 50.0,
            match_wait: Duration::from_secs(5),
            ticket_ttl: Duration::from_secs(60),
            per_addr: 10,
            max_tickets: 100,
            modes: ModeSet::Any,
        }
    }

    #[test]
    fn the_window_widens_with_waiting() {
        let r = rules();
        assert_eq!(r.window(Duration::ZERO), 100.0);
        assert_eq!(r.window(Duration::from_secs(4)), 300.0);
    }
}
