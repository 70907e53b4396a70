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

use super::caps::Slots;
use super::modes::ModeSet;
use super::seats::SeatBook;
use super::store::{Backend, Store, unix_time};
use super::{LobbyError, validate};
use crate::cluster::keys;
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// The member's name.
    pub name: String,
    /// The key that proves membership.
    pub key: String,
    /// The member's seat once started.
    pub seat: Option<SeatGrant>,
}

/// One lobby.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    #[serde(with = "unix_time")]
    pub created: Instant,
    /// Its last join, leave or member read.
    #[serde(with = "unix_time")]
    pub last_active: Instant,
    /// When it started.
    #[serde(with = "unix_time::option")]
    pub started: Option<Instant>,
}

impl Lobby {
    /// How long the cluster's store keeps the lobby after its last change: an open lobby until
    /// it has been idle for `idle`, a started one for as long as its members may fetch seats.
    pub fn ttl(&self, idle: Duration) -> Duration {
        match self.state {
            LobbyState::Open => idle,
            LobbyState::Started => STARTED_LOBBY_TTL,
        }
    }

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
    store: Backend<Lobby>,
    seats: Arc<SeatBook>,
    registry: Arc<RoomRegistry>,
    limits: LobbyLimits,
    /// Open lobbies, counted against their creators' addresses.
    open: Slots,
}

/// Checks a list query's mode and page size.
fn check_query(q: &LobbyQuery) -> Result<(), LobbyError> {
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
fn page<T>(
    lobbies: impl ExactSizeIterator<Item = T>,
    q: &LobbyQuery,
    view: impl FnMut(T) -> LobbyView,
) -> LobbyPage {
    let (offset, limit) = (q.offset.unwrap_or(0), q.limit.unwrap_or(DEFAULT_PAGE));
    let total = lobbies.len();
    paged(
        lobbies.skip(offset).take(limit).map(view).collect(),
        total,
        offset,
    )
}

/// A page of `total` lobbies that starts at `offset`.
fn paged(lobbies: Vec<LobbyView>, total: usize, offset: usize) -> LobbyPage {
    let next_offset = (offset + lobbies.len() < total).then_some(offset + lobbies.len());
    LobbyPage {
        lobbies,
        total,
        next_offset,
    }
}

impl Lobbies {
    /// Lobbies kept in `store`, their open lobbies counted by `open`.
    pub fn new(
        store: Backend<Lobby>,
        open: Slots,
        seats: Arc<SeatBook>,
        registry: Arc<RoomRegistry>,
        limits: LobbyLimits,
    ) -> Self {
        Self {
            store,
            open,
            seats,
            registry,
            limits,
        }
    }

    /// Creates a lobby whose first member is its owner.
    pub async fn create(
        &self,
        req: CreateLobby,
        addr: IpAddr,
    ) -> Result<LobbyMembership, LobbyError> {
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
        let id = random_token()[..12].to_owned();
        self.open.acquire(addr, &id).await?;
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
        let id = lobby.id.clone();
        if let Err(e) = self.store_new(lobby).await {
            self.open.release(addr, &id).await;
            return Err(e);
        }
        Ok(membership)
    }

    /// Stores a new lobby; in the cluster's store a public one is also listed under its mode.
    async fn store_new(&self, lobby: Lobby) -> Result<(), LobbyError> {
        match &self.store {
            Backend::Memory(m) => m.put(lobby.id.clone(), lobby),
            Backend::Shared(r) => {
                let lists = public_lists(&lobby);
                let created = unix_time::to_unix(lobby.created) as f64;
                r.insert_indexed(&lobby.id, &lobby, &lists, created).await?;
            }
        }
        Ok(())
    }

    /// A page of public lobbies, oldest first.
    pub async fn list(&self, q: &LobbyQuery) -> Result<LobbyPage, LobbyError> {
        check_query(q)?;
        let offset = q.offset.unwrap_or(0);
        match &self.store {
            Backend::Memory(m) => {
                let mut lobbies = m.collect(|l| {
                    l.join_code.is_none() && q.mode.as_ref().is_none_or(|m| *m == l.mode)
                });
                lobbies.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
                Ok(page(lobbies.iter(), q, |l| l.view(None)))
            }
            Backend::Shared(r) => {
                let list = q
                    .mode
                    .as_deref()
                    .map_or_else(|| keys::PUBLIC_LOBBIES.to_owned(), keys::public_lobbies);
                let limit = q.limit.unwrap_or(DEFAULT_PAGE);
                let (total, lobbies) = r.page(&list, offset, limit).await?;
                let views = lobbies.iter().map(|l| l.view(None)).collect();
                Ok(paged(views, total, offset))
            }
        }
    }

    /// One lobby, with the join code and seat when `member_key` is a member's (which counts
    /// as activity).
    pub async fn get(&self, id: &str, member_key: Option<&str>) -> Result<LobbyView, LobbyError> {
        let Some(key) = member_key else {
            let lobby = self.store.get(id).await?;
            return lobby
                .map(|l| l.view(None))
                .ok_or(LobbyError::NotFound("lobby"));
        };
        let read = self
            .store
            .update(id, |l| {
                let member = l.members.iter().any(|m| m.key == key);
                // A started lobby stays as long as its seats do, however often it is read.
                if member && l.state == LobbyState::Open {
                    l.last_active = Instant::now();
                }
                (member.then_some(l.owner_addr), l.view(Some(key)))
            })
            .await?;
        let (active, view) = read.ok_or(LobbyError::NotFound("lobby"))?;
        if let Some(owner) = active
            && view.state == LobbyState::Open
        {
            self.open.renew(owner, id).await;
        }
        Ok(view)
    }

    /// Adds a member.
    pub async fn join(&self, id: &str, req: JoinLobby) -> Result<LobbyMembership, LobbyError> {
        validate::player_name("player_name", &req.player_name)?;
        let key = random_token();
        let joined = self
            .store
            .update(id, |l| {
                add_member(l, &req, &key).map(|membership| (membership, l.owner_addr))
            })
            .await?
            .ok_or(LobbyError::NotFound("lobby"))?;
        let (membership, owner) = joined?;
        self.open.renew(owner, id).await;
        Ok(membership)
    }

    /// Removes a member. When the owner leaves, the longest-standing member becomes the owner
    /// (their member key now starts the lobby); the last member leaving closes it.
    pub async fn leave(&self, id: &str, member_key: &str) -> Result<(), LobbyError> {
        let left = self
            .store
            .update(id, |l| {
                remove_member(l, member_key).map(|empty| (empty, l.owner_addr))
            })
            .await?
            .ok_or(LobbyError::NotFound("lobby"))?;
        let (empty, owner) = left?;
        if !empty {
            self.open.renew(owner, id).await;
            return Ok(());
        }
        // Only an open lobby still holds its slot of the open-lobby cap (start gave it back).
        let closing = |l: &Lobby| l.members.is_empty() && l.state == LobbyState::Open;
        if let Some(closed) = self.store.remove_if(id, closing).await? {
            self.open.release(closed.owner_addr, id).await;
            if let Backend::Shared(r) = &self.store {
                for list in public_lists(&closed) {
                    r.unindex_all(&list, std::slice::from_ref(&closed.id))
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Starts the game: opens a room on this node (counted against `addr`, the caller's
    /// address) and reserves a seat for every member.
    pub async fn start(
        &self,
        id: &str,
        owner_key: &str,
        addr: IpAddr,
    ) -> Result<LobbyView, LobbyError> {
        let lobby = self
            .store
            .get(id)
            .await?
            .ok_or(LobbyError::NotFound("lobby"))?;
        if lobby.owner_key != owner_key {
            return Err(LobbyError::Forbidden(
                "only the owner key can start the lobby",
            ));
        }
        if lobby.state == LobbyState::Started {
            return Err(LobbyError::Started);
        }
        let room = self.registry.create(&lobby.mode, addr)?;
        let mut seats = Vec::with_capacity(lobby.members.len());
        for m in &lobby.members {
            match self.seats.reserve(&room, &m.name).await {
                Ok(seat) => seats.push((m.key.clone(), seat)),
                Err(e) => tracing::error!(error = %e, room = room.id, "a new room had no seat"),
            }
        }
        let started = self
            .store
            .update(id, |l| seat_members(l, &seats, room.id))
            .await;
        let started = match started {
            Ok(Some(Ok(view))) => view,
            other => {
                // Started, changed or closed meanwhile, or unreachable: nobody keeps a seat.
                for (_, seat) in &seats {
                    self.seats.cancel(&seat.seat_token);
                }
                self.registry.close_if_abandoned(room.id);
                return match other {
                    Ok(Some(Err(e))) => Err(e),
                    Err(e) => Err(e.into()),
                    _ => Err(LobbyError::NotFound("lobby")),
                };
            }
        };
        self.open.release(lobby.owner_addr, id).await;
        tracing::info!(lobby = id, room = room.id, "lobby started");
        Ok(started)
    }

    /// Drops lobbies that started long ago and open lobbies idle for longer than the limit.
    /// Only lobbies kept in memory: Redis forgets the cluster's lobbies by their TTL.
    pub fn sweep(&self) {
        let (Some(store), Slots::Here(open)) = (self.store.memory(), &self.open) else {
            return;
        };
        let now = Instant::now();
        let idle = self.limits.idle;
        store.retain(|_, l| match l.started {
            Some(s) => now.duration_since(s) < STARTED_LOBBY_TTL,
            None => {
                let keep = now.duration_since(l.last_active) < idle;
                if !keep {
                    open.release(l.owner_addr);
                }
                keep
            }
        });
    }
}

/// The cluster's lists that name `lobby`: the public ones, of all modes and of its own; none
/// for a private lobby.
fn public_lists(lobby: &Lobby) -> Vec<String> {
    if lobby.join_code.is_some() {
        return Vec::new();
    }
    vec![
        keys::PUBLIC_LOBBIES.to_owned(),
        keys::public_lobbies(&lobby.mode),
    ]
}

/// Adds a member with key `key` to an open lobby, if `req` may join it.
fn add_member(l: &mut Lobby, req: &JoinLobby, key: &str) -> Result<LobbyMembership, LobbyError> {
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
    l.members.push(Member {
        name: req.player_name.clone(),
        key: key.to_owned(),
        seat: None,
    });
    l.last_active = Instant::now();
    Ok(LobbyMembership {
        lobby: l.view(Some(key)),
        member_key: key.to_owned(),
        owner_key: None,
    })
}

/// Starts an open lobby in room `room_id`, giving each member the seat booked for its key in
/// `seats`; refused when the lobby started, is closing, or its members changed since the seats
/// were booked.
fn seat_members(
    l: &mut Lobby,
    seats: &[(String, SeatGrant)],
    room_id: u32,
) -> Result<LobbyView, LobbyError> {
    if l.state == LobbyState::Started {
        return Err(LobbyError::Started);
    }
    if l.members.is_empty() {
        // Its last member just left; it is closing (and gives its cap slot back).
        return Err(LobbyError::NotFound("lobby"));
    }
    let same = l.members.len() == seats.len()
        && l.members
            .iter()
            .zip(seats)
            .all(|(m, (key, _))| m.key == *key);
    if !same {
        return Err(LobbyError::Conflict(
            "the lobby's members changed while it started; start it again",
        ));
    }
    for (m, (_, seat)) in l.members.iter_mut().zip(seats) {
        m.seat = Some(seat.clone());
    }
    l.state = LobbyState::Started;
    l.room_id = Some(room_id);
    l.started = Some(Instant::now());
    let owner = l.members.first().map(|m| m.key.clone());
    Ok(l.view(owner.as_deref()))
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
