//! Player-made lobbies: create, list, join (with a code when private), leave, and start, which
//! opens a room and gives every member a seat. When the owner leaves, the longest-standing
//! member becomes the owner; an open lobby without activity for `--lobby-idle-secs` closes.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::api::{
    CreateLobby, JoinLobby, LobbyMembership, LobbyPage, LobbyQuery, LobbyState, LobbyView,
    SeatGrant,
};

use super::caps::Caps;
use super::home::Home;
use super::modes::ModeSet;
use super::seats::SeatBook;
use super::store::Store;
use super::{LobbyError, validate};
use crate::room::{RoomRegistry, random_token};

/// How long a started lobby stays readable, so members can fetch their seats.
const STARTED_LOBBY_TTL: Duration = Duration::from_secs(300);
/// Largest page of the lobby list.
pub const MAX_PAGE: usize = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: usize = 20;
/// The symbols of a join code: Crockford's base 32 (no I, L, O or U), 5 bits each.
const JOIN_CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a join code: 16 symbols of 5 bits are 80 random bits.
pub const JOIN_CODE_LEN: usize = 16;

/// Whether `given` is the join code `code`, ignoring case, in time that does not depend on
/// where they differ.
fn same_code(given: &str, code: &str) -> bool {
    given.len() == code.len()
        && given
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |diff, (g, c)| diff | (g.to_ascii_uppercase() ^ c))
            == 0
}

/// A new join code from the thread's CSPRNG (ChaCha, seeded by the OS).
fn new_join_code() -> String {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    (0..JOIN_CODE_LEN)
        .map(|_| char::from(JOIN_CODE_ALPHABET[rng.random_range(0..JOIN_CODE_ALPHABET.len())]))
        .collect()
}

/// One member.
#[derive(Debug, Clone)]
pub struct Member {
    /// The member's name.
    pub name: String,
    /// The key that proves membership.
    pub key: String,
    /// The member's seat once started.
    pub seat: Option<SeatGrant>,
}

/// One lobby.
#[derive(Debug, Clone)]
pub struct Lobby {
    /// Its id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Mode.
    pub mode: String,
    /// Most members.
    pub max_players: u32,
    /// Private lobbies are unlisted and need the join code.
    pub join_code: Option<String>,
    /// The key that starts the lobby: the creator's owner key, or after a hand-over the new
    /// owner's member key.
    pub owner_key: String,
    /// Who created it (its open lobby counts against this address until it starts or closes).
    pub owner_addr: IpAddr,
    /// Members, the owner first.
    pub members: Vec<Member>,
    /// Open or started.
    pub state: LobbyState,
    /// The room once started.
    pub room_id: Option<u32>,
    /// When it was created.
    pub created: Instant,
    /// Its last join, leave or member read.
    pub last_active: Instant,
    /// When it started.
    pub started: Option<Instant>,
}

impl Lobby {
    /// The lobby as `viewer` (a member key, if any) may see it.
    pub fn view(&self, viewer: Option<&str>) -> LobbyView {
        let me = viewer.and_then(|key| self.members.iter().find(|m| m.key == key));
        LobbyView {
            lobby_id: self.id.clone(),
            name: self.name.clone(),
            mode: self.mode.clone(),
            max_players: self.max_players,
            private: self.join_code.is_some(),
            state: self.state,
            members: self.members.iter().map(|m| m.name.clone()).collect(),
            room_id: self.room_id,
            join_code: me.and(self.join_code.clone()),
            seat: me.and_then(|m| m.seat.clone()),
        }
    }
}

/// Limits on lobbies.
#[derive(Debug, Clone)]
pub struct LobbyLimits {
    /// Open lobbies per client address.
    pub per_addr: usize,
    /// Open lobbies on the server.
    pub max_lobbies: usize,
    /// The modes a lobby may be of.
    pub modes: ModeSet,
    /// How long an open lobby may go without activity.
    pub idle: Duration,
}

/// Every lobby.
#[derive(Debug)]
pub struct Lobbies {
    store: Arc<dyn Store<Lobby>>,
    seats: Arc<SeatBook>,
    registry: Arc<RoomRegistry>,
    limits: LobbyLimits,
    /// Open lobbies, counted against their creators' addresses.
    open: Caps,
    /// Where new lobby ids say they live.
    home: Home,
}

/// A public lobby as its node lists it for the other nodes of a cluster.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListedLobby {
    /// Unix milliseconds of its creation (the list's order).
    pub created_ms: u64,
    /// What anyone may see of it.
    pub view: LobbyView,
}

/// Checks a list query's mode and page size.
pub fn check_query(q: &LobbyQuery) -> Result<(), LobbyError> {
    if let Some(mode) = &q.mode {
        validate::tag("mode", mode)?;
    }
    if !(1..=MAX_PAGE).contains(&q.limit.unwrap_or(DEFAULT_PAGE)) {
        return Err(LobbyError::Invalid {
            field: "limit",
            message: format!("must be 1-{MAX_PAGE}"),
        });
    }
    Ok(())
}

/// The page `q` asks for of `lobbies` (public, of its mode, in list order); only the lobbies
/// on the page are turned into views by `view`.
pub fn page<T>(
    lobbies: impl ExactSizeIterator<Item = T>,
    q: &LobbyQuery,
    view: impl FnMut(T) -> LobbyView,
) -> LobbyPage {
    let (offset, limit) = (q.offset.unwrap_or(0), q.limit.unwrap_or(DEFAULT_PAGE));
    let total = lobbies.len();
    let page: Vec<LobbyView> = lobbies.skip(offset).take(limit).map(view).collect();
    let next_offset = (offset + page.len() < total).then_some(offset + page.len());
    LobbyPage {
        lobbies: page,
        total,
        next_offset,
    }
}

impl Lobbies {
    /// Lobbies kept in `store`.
    pub fn new(
        store: Arc<dyn Store<Lobby>>,
        seats: Arc<SeatBook>,
        registry: Arc<RoomRegistry>,
        limits: LobbyLimits,
    ) -> Self {
        Self {
            open: Caps::new("open lobbies", limits.max_lobbies, limits.per_addr),
            store,
            seats,
            registry,
            limits,
            home: Home::default(),
        }
    }

    /// These lobbies with ids that name `home`.
    pub fn at(self, home: Home) -> Self {
        Self { home, ..self }
    }

    /// Whether lobby `id` is held here.
    pub fn contains(&self, id: &str) -> bool {
        self.store.get(id).is_some()
    }

    /// Every public lobby held here, for the cluster's list.
    pub fn listed(&self) -> Vec<ListedLobby> {
        let now_ms = protocol::clock::unix_micros() / 1000;
        self.store
            .collect(&mut |l| l.join_code.is_none())
            .iter()
            .map(|l| ListedLobby {
                created_ms: now_ms.saturating_sub(l.created.elapsed().as_millis() as u64),
                view: l.view(None),
            })
            .collect()
    }

    /// Creates a lobby whose first member is its owner.
    pub fn create(&self, req: CreateLobby, addr: IpAddr) -> Result<LobbyMembership, LobbyError> {
        validate::lobby_name(&req.name)?;
        self.limits.modes.check(&req.mode)?;
        validate::player_name("player_name", &req.player_name)?;
        let capacity = self.registry.capacity_for(&req.mode);
        if !(1..=capacity).contains(&req.max_players) {
            return Err(LobbyError::Invalid {
                field: "max_players",
                message: format!("must be 1-{capacity} for mode `{}`", req.mode),
            });
        }
        let id = self.home.id(&random_token()[..12])?;
        self.open.acquire(addr)?;
        let owner = Member {
            name: req.player_name,
            key: random_token(),
            seat: None,
        };
        let member_key = owner.key.clone();
        let lobby = Lobby {
            id,
            name: req.name,
            mode: req.mode,
            max_players: req.max_players,
            join_code: req.private.then(new_join_code),
            owner_key: random_token(),
            owner_addr: addr,
            members: vec![owner],
            state: LobbyState::Open,
            room_id: None,
            created: Instant::now(),
            last_active: Instant::now(),
            started: None,
        };
        let membership = LobbyMembership {
            lobby: lobby.view(Some(&member_key)),
            member_key,
            owner_key: Some(lobby.owner_key.clone()),
        };
        self.store.insert(lobby.id.clone(), lobby);
        Ok(membership)
    }

    /// A page of public lobbies, oldest first.
    pub fn list(&self, q: &LobbyQuery) -> Result<LobbyPage, LobbyError> {
        check_query(q)?;
        let mut lobbies = self.store.collect(&mut |l| {
            l.join_code.is_none() && q.mode.as_ref().is_none_or(|m| *m == l.mode)
        });
        lobbies.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok(page(lobbies.iter(), q, |l| l.view(None)))
    }

    /// One lobby, with the join code and seat when `member_key` is a member's (which counts
    /// as activity).
    pub fn get(&self, id: &str, member_key: Option<&str>) -> Result<LobbyView, LobbyError> {
        let mut view = None;
        self.store.update(id, &mut |l| {
            if member_key.is_some_and(|key| l.members.iter().any(|m| m.key == key)) {
                l.last_active = Instant::now();
            }
            view = Some(l.view(member_key));
        });
        view.ok_or(LobbyError::NotFound("lobby"))
    }

    /// Adds a member.
    pub fn join(&self, id: &str, req: JoinLobby) -> Result<LobbyMembership, LobbyError> {
        validate::player_name("player_name", &req.player_name)?;
        let mut result = Err(LobbyError::NotFound("lobby"));
        self.store.update(id, &mut |l| {
            result = (|| {
                if let Some(code) = &l.join_code
                    && !req
                        .join_code
                        .as_deref()
                        .is_some_and(|given| same_code(given, code))
                {
                    return Err(LobbyError::Forbidden("a private lobby needs its join code"));
                }
                if l.state == LobbyState::Started {
                    return Err(LobbyError::Started);
                }
                if l.members.is_empty() {
                    // Its last member just left; it is closing.
                    return Err(LobbyError::NotFound("lobby"));
                }
                if l.members.len() >= l.max_players as usize {
                    return Err(LobbyError::Full("the lobby"));
                }
                if l.members.iter().any(|m| m.name == req.player_name) {
                    return Err(LobbyError::Conflict(
                        "a member of this lobby already has that name",
                    ));
                }
                let member = Member {
                    name: req.player_name.clone(),
                    key: random_token(),
                    seat: None,
                };
                let member_key = member.key.clone();
                l.members.push(member);
                l.last_active = Instant::now();
                Ok(LobbyMembership {
                    lobby: l.view(Some(&member_key)),
                    member_key,
                    owner_key: None,
                })
            })();
        });
        result
    }

    /// Removes a member. When the owner leaves, the longest-standing member becomes the owner
    /// (their member key now starts the lobby); the last member leaving closes it.
    pub fn leave(&self, id: &str, member_key: &str) -> Result<(), LobbyError> {
        let mut result = Err(LobbyError::NotFound("lobby"));
        self.store
            .update(id, &mut |l| result = remove_member(l, member_key));
        // Only an open lobby still holds its slot of the open-lobby cap (start gave it back).
        let closing = |l: &Lobby| l.members.is_empty() && l.state == LobbyState::Open;
        if result? && let Some(closed) = self.store.remove_if(id, &mut |l| closing(l)) {
            self.open.release(closed.owner_addr);
        }
        Ok(())
    }

    /// Starts the game: opens a room (counted against `addr`, the caller's address) and
    /// reserves a seat for every member.
    pub fn start(&self, id: &str, owner_key: &str, addr: IpAddr) -> Result<LobbyView, LobbyError> {
        let lobby = self.store.get(id).ok_or(LobbyError::NotFound("lobby"))?;
        if lobby.owner_key != owner_key {
            return Err(LobbyError::Forbidden(
                "only the owner key can start the lobby",
            ));
        }
        if lobby.state == LobbyState::Started {
            return Err(LobbyError::Started);
        }
        let room = self.registry.create(&lobby.mode, addr)?;
        let mut result = Err(LobbyError::NotFound("lobby"));
        self.store.update(id, &mut |l| {
            if l.state == LobbyState::Started {
                result = Err(LobbyError::Started);
                return;
            }
            if l.members.is_empty() {
                // Its last member just left; it is closing (and gives its cap slot back).
                return;
            }
            for m in &mut l.members {
                match self.seats.reserve(&room, &m.name) {
                    Ok(seat) => m.seat = Some(seat),
                    Err(e) => tracing::error!(error = %e, room = room.id, "a new room had no seat"),
                }
            }
            l.state = LobbyState::Started;
            self.open.release(l.owner_addr);
            l.room_id = Some(room.id);
            l.started = Some(Instant::now());
            let owner = l.members.first().map(|m| m.key.clone());
            result = Ok(l.view(owner.as_deref()));
        });
        if result.is_err() {
            // Started or closed meanwhile: nobody holds a seat of the new room.
            self.registry.close_if_abandoned(room.id);
        } else {
            tracing::info!(lobby = id, room = room.id, "lobby started");
        }
        result
    }

    /// Drops lobbies that started long ago and open lobbies idle for longer than the limit.
    pub fn sweep(&self) {
        let now = Instant::now();
        let idle = self.limits.idle;
        self.store.retain(&mut |_, l| match l.started {
            Some(s) => now.duration_since(s) < STARTED_LOBBY_TTL,
            None => {
                let keep = now.duration_since(l.last_active) < idle;
                if !keep {
                    self.open.release(l.owner_addr);
                }
                keep
            }
        });
    }
}

/// Removes the member with `member_key` from an open lobby, handing ownership to the next
/// member when the owner leaves; returns whether the lobby is now empty.
fn remove_member(l: &mut Lobby, member_key: &str) -> Result<bool, LobbyError> {
    let Some(pos) = l.members.iter().position(|m| m.key == member_key) else {
        return Err(LobbyError::Forbidden(
            "the member key does not belong to this lobby",
        ));
    };
    if l.state == LobbyState::Started {
        return Err(LobbyError::Started);
    }
    l.members.remove(pos);
    l.last_active = Instant::now();
    if pos == 0
        && let Some(heir) = l.members.first()
    {
        l.owner_key = heir.key.clone();
        tracing::debug!(lobby = %l.id, owner = %heir.name, "lobby handed over");
    }
    Ok(l.members.is_empty())
}
