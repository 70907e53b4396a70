//! JSON bodies of the REST lobby API (`/api/v1`) and events of the SSE spectator feed.
//!
//! Requests refuse unknown fields so that a typo is a 422, not a silently ignored option.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// JSON Schema pattern of a player name: 1–32 ASCII letters, digits, `_`, `-`, `.` or inner
/// spaces, as the server validates it (the `player_name` fields repeat it: utoipa takes only a
/// literal there).
#[cfg(feature = "openapi")]
const PLAYER_NAME_PATTERN: &str = r"^[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,30}[A-Za-z0-9_.-])?$";

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A stable machine-readable code with a human-readable message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_field`, `not_found`, `room_full`, `rate_limited`.
    pub code: String,
    /// What happened, for people.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `POST /api/v1/matchmaking/tickets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// The player who searches (1–32 letters, digits, `_`, `-`, `.`, space).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 32,
            pattern = r"^[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,30}[A-Za-z0-9_.-])?$"
        )
    )]
    pub player_name: String,
    /// Game mode, e.g. `deathmatch` (1–32 lowercase letters, digits, `_`, `-`).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$")
    )]
    pub mode: String,
    /// Region, e.g. `eu` (same rule as the mode).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$")
    )]
    pub region: String,
    /// Skill rating (0–10,000); tickets with close ratings match first.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 10_000.0))]
    #[serde(default)]
    pub skill: Option<f64>,
    /// Other players who must land in the same room (names, same rule as `player_name`); with
    /// the owner, at most the mode's room capacity.
    #[cfg_attr(feature = "openapi", schema(schema_with = party_schema))]
    #[serde(default)]
    pub party: Vec<String>,
}

/// Where a matchmaking ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Waiting for a match.
    Searching,
    /// Matched: the seats are ready.
    Matched,
    /// Nobody matched before the ticket's time ran out.
    Expired,
    /// Cancelled by its owner.
    Cancelled,
}

/// A matchmaking ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketView {
    /// The ticket's id.
    pub ticket_id: String,
    /// Where it stands.
    pub status: TicketStatus,
    /// Requested mode.
    pub mode: String,
    /// Requested region.
    pub region: String,
    /// How long the ticket has waited, in milliseconds.
    pub waited_ms: u64,
    /// When matched: the room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<u32>,
    /// When matched: where to connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_url: Option<String>,
    /// When matched: the owner's seat token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat_token: Option<String>,
    /// When matched: the owner's player id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_id: Option<u32>,
    /// When matched: a seat for every member of the party, the owner first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<SeatGrant>,
}

/// A reserved seat: present `seat_token` in the WebSocket join at `ws_url` before it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SeatGrant {
    /// Whose seat it is.
    pub player_name: String,
    /// The room.
    pub room_id: u32,
    /// The WebSocket URL of the room.
    pub ws_url: String,
    /// Single-use token (32 hex digits, 128 random bits).
    pub seat_token: String,
    /// The player's id in the room, which is also its entity's id.
    pub player_id: u32,
    /// Milliseconds left before the token expires.
    pub expires_in_ms: u64,
}

/// `POST /api/v1/matchmaking/join-or-create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinOrCreate {
    /// The player (see [`CreateTicket::player_name`]).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 32,
            pattern = r"^[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,30}[A-Za-z0-9_.-])?$"
        )
    )]
    pub player_name: String,
    /// Game mode (see [`CreateTicket::mode`]).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$")
    )]
    pub mode: String,
}

/// `POST /api/v1/lobbies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateLobby {
    /// Display name: 1–64 characters, at least one of them visible (not white space, a
    /// zero-width or format character, or a combining mark alone), with no control character and
    /// no bidirectional formatting control (U+061C, U+200E, U+200F, U+202A–U+202E,
    /// U+2066–U+2069).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\u00AD\u0300-\u036F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFE00-\uFE0F\uFEFF][^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*$"
        )
    )]
    pub name: String,
    /// Game mode (see [`CreateTicket::mode`]).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$")
    )]
    pub mode: String,
    /// Most members, 1 up to the mode's room capacity.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    #[serde(deserialize_with = "integral_u32")]
    pub max_players: u32,
    /// The owner's player name (see [`CreateTicket::player_name`]); the owner is the first member.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 32,
            pattern = r"^[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,30}[A-Za-z0-9_.-])?$"
        )
    )]
    pub player_name: String,
    /// A private lobby is not listed and needs its join code.
    #[serde(default)]
    pub private: bool,
}

/// Whether a lobby still takes members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LobbyState {
    /// Members can join and leave.
    Open,
    /// The owner started the game; seats were handed out.
    Started,
}

/// A lobby as others see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LobbyView {
    /// The lobby's id.
    pub lobby_id: String,
    /// Display name.
    pub name: String,
    /// Game mode.
    pub mode: String,
    /// Most members.
    pub max_players: u32,
    /// Whether the lobby is private.
    pub private: bool,
    /// Open or started.
    pub state: LobbyState,
    /// Member names, the owner first.
    pub members: Vec<String>,
    /// The room, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<u32>,
    /// The join code of a private lobby (shown to members only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
    /// The caller's seat, once started (shown to the member whose key was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<SeatGrant>,
}

/// The answer to creating or joining a lobby: keep `member_key` to read your seat or leave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LobbyMembership {
    /// The lobby.
    pub lobby: LobbyView,
    /// The caller's member key (send as `X-Member-Key`).
    pub member_key: String,
    /// The owner key, to the creator only (send as `X-Owner-Key` to start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_key: Option<String>,
}

/// `POST /api/v1/lobbies/{id}/join`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinLobby {
    /// The joining player (see [`CreateTicket::player_name`]).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 32,
            pattern = r"^[A-Za-z0-9_.-]([A-Za-z0-9_. -]{0,30}[A-Za-z0-9_.-])?$"
        )
    )]
    pub player_name: String,
    /// Required for a private lobby.
    #[serde(default)]
    pub join_code: Option<String>,
}

/// A page of public lobbies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LobbyPage {
    /// The lobbies on this page, oldest first.
    pub lobbies: Vec<LobbyView>,
    /// How many public lobbies match the filter in all.
    pub total: usize,
    /// Pass as `offset` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

/// Query of `GET /api/v1/lobbies`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct LobbyQuery {
    /// Only lobbies of this mode (see [`CreateTicket::mode`]).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$"))]
    #[serde(default)]
    pub mode: Option<String>,
    /// Skip this many (default 0).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 0))]
    #[serde(default)]
    pub offset: Option<usize>,
    /// Page size, 1–100 (default 20).
    #[cfg_attr(feature = "openapi", param(value_type = Option<u32>, minimum = 1, maximum = 100))]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A live room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoomView {
    /// The room's id.
    pub room_id: u32,
    /// Game mode.
    pub mode: String,
    /// Everyone in the room: players connected or holding a seat, and server-side bots.
    pub players: u32,
    /// How many of `players` are server-side bots. A bot gives its place to a human, so a
    /// room's free seats for humans are `capacity` − (`players` − `bots`).
    pub bots: u32,
    /// Most players (humans; bots fill only the seats humans leave free).
    pub capacity: u32,
    /// The room's current tick.
    pub tick: u32,
    /// The spectator page.
    pub spectate_url: String,
    /// The SSE feed.
    pub events_url: String,
    /// Base URL of the node that runs the room; only when the server runs in a cluster
    /// (`--redis`), where any node lists the rooms of every node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_url: Option<String>,
}

/// `GET /api/v1/rooms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoomList {
    /// Every live room, by id.
    pub rooms: Vec<RoomView>,
}

/// One entity as spectators see it: generic over the game, built from its replicated state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorEntity {
    /// The entity's id.
    pub id: u32,
    /// Its kind's name in the game's schema (`player` for players).
    pub kind: String,
    /// x in quanta (1/100 world unit); absent when the entity has no position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<i32>,
    /// y in quanta; absent when the entity has no position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<i32>,
    /// The player's name, for players.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every shared replicated field but the position, keyed `Component.field` (e.g.
    /// `Score.points`). Owner-only components never appear.
    pub fields: BTreeMap<String, SpectatorValue>,
}

/// Replicated fields keyed `Component.field`, in name order.
pub type SpectatorFields = BTreeMap<String, SpectatorValue>;

/// One replicated field's value as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SpectatorValue {
    /// A bool field.
    Bool(bool),
    /// An integer field.
    Int(i64),
    /// A fixed-point field: its raw value divided by its scale.
    Number(f64),
    /// A string field.
    Text(String),
    /// A position field, in quanta.
    Pos(SpectatorPos),
}

/// Written by hand: the derive would make it a `oneOf`, which an integral value (an integer, or
/// a fixed-point number such as `2.0`) fails by matching both number types.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SpectatorValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Ref, Type};
        let of =
            |ty: Type, what: &str| ObjectBuilder::new().schema_type(ty).description(Some(what));
        AnyOfBuilder::new()
            .description(Some("One replicated field's value as JSON."))
            .item(of(Type::Boolean, "A bool field."))
            .item(of(Type::Integer, "An integer field."))
            .item(of(
                Type::Number,
                "A fixed-point field: its raw value divided by its scale.",
            ))
            .item(of(Type::String, "A string field."))
            .item(Ref::from_schema_name("SpectatorPos"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl ToSchema for SpectatorValue {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("SpectatorPos".to_owned(), SpectatorPos::schema()));
    }
}

/// A position in quanta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorPos {
    /// x in quanta.
    pub x: i32,
    /// y in quanta.
    pub y: i32,
}

/// SSE event `snapshot`: the whole room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorSnapshot {
    /// The room.
    pub room_id: u32,
    /// The tick this state belongs to (also the event id).
    pub tick: u32,
    /// The room's tick rate.
    pub tick_rate: u16,
    /// Updates per second of this stream: the spectator rate, or the lower whole-room rate of a
    /// room with an interest radius watched without a viewport.
    pub update_hz: u16,
    /// World width in quanta.
    pub width: i32,
    /// World height in quanta.
    pub height: i32,
    /// The room's interest radius in world units (0: every player sees the whole room).
    #[serde(default)]
    pub interest_radius: f64,
    /// The viewport this stream shows; absent when it shows the whole room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewport: Option<SpectatorViewport>,
    /// Every replicated entity by ascending id, with or without a position (with a viewport:
    /// those with a position inside it, and every one without a position).
    pub entities: Vec<SpectatorEntity>,
}

/// Largest `|x|`, `|y|`, `w` and `h` of a spectator viewport, in world units: any viewport within
/// it still has its edges inside the quantized positions' `i32` range.
pub const MAX_VIEWPORT_UNITS: f64 = (i32::MAX / crate::quant::QUANTA_PER_UNIT / 4) as f64;

/// A rectangle of the world a spectator watches (`?x=&y=&w=&h=` on the feed), in world units:
/// an entity is inside when `x ≤ its x < x + w` and `y ≤ its y < y + h`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorViewport {
    /// Left edge.
    pub x: f64,
    /// Bottom edge (y grows upwards).
    pub y: f64,
    /// Width, more than 0.
    pub w: f64,
    /// Height, more than 0.
    pub h: f64,
}

/// A moved entity in a spectator delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorMove {
    /// The entity's id.
    pub id: u32,
    /// New x in quanta.
    pub x: i32,
    /// New y in quanta.
    pub y: i32,
}

/// An entity whose fields changed in a spectator delta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorChange {
    /// The entity's id.
    pub id: u32,
    /// The fields that changed, with their new values; the others keep theirs.
    pub fields: BTreeMap<String, SpectatorValue>,
}

/// SSE event `delta`: what changed since the previous event of this stream. Apply `despawned`,
/// then `spawned`, then `moved` and `changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SpectatorDelta {
    /// The tick this state belongs to (also the event id).
    pub tick: u32,
    /// The tick of the previous event.
    pub baseline: u32,
    /// Entities that moved, with their new position.
    pub moved: Vec<SpectatorMove>,
    /// Entities that appeared, or whose kind, name, position presence or set of fields changed:
    /// each replaces any entity of its id whole.
    pub spawned: Vec<SpectatorEntity>,
    /// Ids of entities that are gone.
    pub despawned: Vec<u32>,
    /// Entities whose field values changed, with only those fields.
    pub changed: Vec<SpectatorChange>,
}

/// The schema of [`CreateTicket::party`]: player names.
#[cfg(feature = "openapi")]
fn party_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(32))
        .pattern(Some(PLAYER_NAME_PATTERN));
    ArrayBuilder::new()
        .description(Some(
            "Other players who must land in the same room: distinct names, none the owner's.",
        ))
        .items(name)
        .unique_items(true)
        .build()
}

/// A `u32` from any JSON number with an integral value: JSON (and JSON Schema's `integer`)
/// counts `4.0` as the integer 4.
fn integral_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    struct Integral;
    impl serde::de::Visitor<'_> for Integral {
        type Value = u32;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer from 0 to 4294967295")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom(format!("{v} is over 4294967295")))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom(format!("{v} is not from 0 to 4294967295")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u32, E> {
            let integral = v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v);
            if integral {
                Ok(v as u32)
            } else {
                Err(E::custom(format!(
                    "{v} is not an integer from 0 to 4294967295"
                )))
            }
        }
    }
    d.deserialize_any(Integral)
}
