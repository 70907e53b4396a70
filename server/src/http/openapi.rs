//! The OpenAPI document of the public port.
//!
//! The handlers' `#[utoipa::path]` annotations describe each operation's own answers; [`complete`]
//! adds the answers that every operation of a kind shares because a layer or an extractor gives
//! them (the rate limit, path, query and body rejections), so that no operation can forget one,
//! and puts this server's `info` block on the document. [`to_json`] writes it out, with unsigned
//! formats spelt `uint32` and the SSE body typed event by event.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{
    ContentBuilder, Info, OpenApi, Ref, RefOr, Response, ResponseBuilder, Responses,
};
use utoipa::{PartialSchema as _, ToSchema as _};

use super::MAX_BODY;
use crate::config::Config;
use crate::lobby::modes::ModeSet;

/// Prefix of the REST API, every operation of which is rate limited per client.
const API_PREFIX: &str = "/api/v1/";

/// The `info` block: this server, its version and licence.
pub fn info() -> Info {
    InfoBuilder::new()
        .title("game-server")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "REST lobby and matchmaking API, SSE spectator feed and operations endpoints of the \
             authoritative game state server. The game itself speaks the binary WebSocket \
             protocol of PROTOCOL.md at /ws. Errors are `{\"error\": {\"code\", \"message\", \
             \"field\"?}}`; 429 and 503 carry `Retry-After`.",
        ))
        .license(Some(
            LicenseBuilder::new()
                .name(env!("CARGO_PKG_LICENSE"))
                .identifier(Some(env!("CARGO_PKG_LICENSE")))
                .build(),
        ))
        .build()
}

/// Completes the generated document: this server's `info`, the shared error answers of every
/// operation, a description on every response, the spectator events' schemas, the WebSocket
/// upgrade's headers, and the limits that depend on `config` (room capacities, accepted modes).
pub fn complete(doc: &mut OpenApi, config: &Config) {
    doc.info = info();
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            add_shared_errors(path, op);
            for response in op.responses.responses.iter_mut() {
                describe(response);
            }
        }
    }
    add_event_schemas(doc);
    add_upgrade_headers(doc);
    limit_max_players(doc, config);
    limit_modes(doc, &ModeSet::from_config(config));
    limit_viewport(doc);
}

/// The spectator feed's viewport parameters: `x` and `y` within ±`MAX_VIEWPORT_UNITS`, `w` and `h`
/// more than 0 and at most it.
fn limit_viewport(doc: &mut OpenApi) {
    use protocol::api::MAX_VIEWPORT_UNITS;
    let Some(op) = doc
        .paths
        .paths
        .get_mut("/api/v1/rooms/{id}/events")
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    for param in op.parameters.iter_mut().flatten() {
        let RefOr::T(param) = param else { continue };
        let Some(RefOr::T(Schema::Object(schema))) = param.schema.as_mut() else {
            continue;
        };
        match param.name.as_str() {
            "x" | "y" => schema.minimum = Some((-MAX_VIEWPORT_UNITS).into()),
            "w" | "h" => schema.exclusive_minimum = Some(0.0.into()),
            _ => continue,
        }
        schema.maximum = Some(MAX_VIEWPORT_UNITS.into());
    }
}

/// The answers a layer or an extractor gives to `op` at `path`.
fn add_shared_errors(path: &str, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_in = |kind: ParameterIn| {
        params
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == kind))
    };
    let (in_path, in_query) = (has_in(ParameterIn::Path), has_in(ParameterIn::Query));
    let responses = &mut op.responses;
    if path.starts_with(API_PREFIX) {
        add(
            responses,
            429,
            "Too many requests from this client (per IPv4 address or IPv6 /64); \
             wait `Retry-After` seconds",
            true,
        );
    }
    let mut bad_request = Vec::new();
    if in_path || in_query {
        bad_request.push("a path or query parameter is malformed, out of range or unknown");
    }
    if op.request_body.is_some() {
        bad_request.push("the body is not JSON, or a field breaks its rule");
    }
    if !bad_request.is_empty() {
        let description = bad_request.join("; or ");
        add(responses, 400, &capitalized(&description), false);
    }
    if op.request_body.is_some() {
        let too_large = format!("The body is over {MAX_BODY} bytes");
        add(responses, 413, &too_large, false);
        add(
            responses,
            415,
            "The body is not sent as `application/json`",
            false,
        );
        add(
            responses,
            422,
            "The body is JSON but not this request (a field missing, of the wrong type or unknown)",
            false,
        );
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Adds an error answer with the error body unless the operation documents `status` itself
/// (then only gives it `description` if it has none).
fn add(responses: &mut Responses, status: u16, description: &str, retry_after: bool) {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    if retry_after {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    let entry = responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(response.build()));
    // An operation that lists the status without saying why gets this description.
    if let RefOr::T(listed) = entry
        && listed.description.is_empty()
    {
        listed.description = description.to_owned();
    }
}

/// Gives a response without a description its status's reason phrase.
fn describe((status, response): (&String, &mut RefOr<Response>)) {
    let RefOr::T(response) = response else {
        return;
    };
    if response.description.is_empty() {
        let reason = status
            .parse::<u16>()
            .ok()
            .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Response");
        response.description = reason.to_owned();
    }
}

/// The document as JSON, with unsigned integer formats spelt as the OpenAPI format registry
/// spells them (`uint32`; utoipa writes `u-int32`) and bounded by their largest value.
pub fn to_json(doc: &OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(doc).unwrap_or_default();
    fix_formats(&mut json);
    type_event_streams(&mut json);
    json
}

/// Puts [`event_schema`] on every `text/event-stream` response body.
fn type_event_streams(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let bodies = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses")?.as_object_mut())
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.pointer_mut("/content/text~1event-stream"));
    for body in bodies.filter_map(|body| body.as_object_mut()) {
        body.insert("schema".to_owned(), event_schema());
    }
}

fn fix_formats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let bits = match map.get("format") {
                Some(serde_json::Value::String(f)) => f.strip_prefix("u-int").map(str::to_owned),
                _ => None,
            };
            if let Some(bits) = bits {
                map.insert("format".to_owned(), format!("uint{bits}").into());
                if let Ok(bits @ 1..=64) = bits.parse::<u32>() {
                    map.entry("maximum")
                        .or_insert((u64::MAX >> (64 - bits)).into());
                }
            }
            map.values_mut().for_each(fix_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(fix_formats),
        _ => {}
    }
}

/// Adds the schemas of the spectator events' data to the document.
fn add_event_schemas(doc: &mut OpenApi) {
    use protocol::api::{SpectatorDelta, SpectatorSnapshot};
    let mut schemas = vec![
        ("SpectatorSnapshot".to_owned(), SpectatorSnapshot::schema()),
        ("SpectatorDelta".to_owned(), SpectatorDelta::schema()),
    ];
    SpectatorSnapshot::schemas(&mut schemas);
    SpectatorDelta::schemas(&mut schemas);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
}

/// The schema of one spectator event (the OpenAPI 3.1 reading of an event stream's `schema`):
/// `snapshot` and `delta` events carry a JSON SpectatorSnapshot or SpectatorDelta as data, `end`
/// says the room closed. Written as JSON: utoipa has no `contentSchema`.
fn event_schema() -> serde_json::Value {
    let event = |name: &str, data: serde_json::Value| {
        serde_json::json!({
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"const": name},
                "id": {"type": "string", "description": "The tick of the state."},
                "data": data,
            },
        })
    };
    let json = |schema: &str| {
        serde_json::json!({
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": format!("#/components/schemas/{schema}")},
        })
    };
    let stream = serde_json::json!({
        "description": "One server-sent event: `snapshot` first (and after a gap), then \
            `delta` events, and `end` when the room closes. Comments keep the stream alive.",
        "oneOf": [
            event("snapshot", json("SpectatorSnapshot")),
            event("delta", json("SpectatorDelta")),
            event("end", serde_json::json!({"type": "string"})),
        ],
    });
    stream
}

/// Limits that follow from the room capacities this server gives modes: a new lobby's
/// `max_players`, and a ticket's party (which the owner joins), are at most the largest.
fn limit_max_players(doc: &mut OpenApi, config: &Config) {
    let largest = config
        .mode_capacities
        .iter()
        .map(|(_, n)| *n)
        .chain([config.room_capacity])
        .max()
        .unwrap_or(config.room_capacity);
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(lobby))) = components.schemas.get_mut("CreateLobby")
        && let Some(RefOr::T(Schema::Object(max_players))) = lobby.properties.get_mut("max_players")
    {
        max_players.maximum = Some(largest.into());
    }
    if let Some(RefOr::T(Schema::Object(ticket))) = components.schemas.get_mut("CreateTicket")
        && let Some(RefOr::T(Schema::Array(party))) = ticket.properties.get_mut("party")
    {
        party.max_items = Some(largest.saturating_sub(1) as usize);
    }
}

/// The modes this server accepts (`--modes`), as an `enum` on every request's `mode`, unless it
/// accepts any well-formed mode.
fn limit_modes(doc: &mut OpenApi, modes: &ModeSet) {
    let ModeSet::Only(modes) = modes else {
        return;
    };
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for request in ["CreateLobby", "CreateTicket", "JoinOrCreate"] {
        if let Some(RefOr::T(Schema::Object(schema))) = components.schemas.get_mut(request)
            && let Some(RefOr::T(Schema::Object(mode))) = schema.properties.get_mut("mode")
        {
            mode.enum_values = Some(modes.iter().map(|m| m.as_str().into()).collect());
        }
    }
}

/// The headers without which `GET /ws` is not a WebSocket upgrade (RFC 6455 §4.1).
fn add_upgrade_headers(doc: &mut OpenApi) {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let Some(op) = doc
        .paths
        .paths
        .get_mut("/ws")
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    let header = |name: &str, schema: ObjectBuilder, description: &str| {
        let param = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(schema.schema_type(Type::String)))
            .build();
        RefOr::T(param)
    };
    let exactly = |value: &str| ObjectBuilder::new().enum_values(Some([value]));
    let params = op.parameters.get_or_insert_with(Vec::new);
    params.extend([
        header("Connection", exactly("Upgrade"), "`Upgrade`"),
        header("Upgrade", exactly("websocket"), "`websocket`"),
        header("Sec-WebSocket-Version", exactly("13"), "`13`"),
        header(
            "Sec-WebSocket-Key",
            ObjectBuilder::new().pattern(Some("^[A-Za-z0-9+/]{22}==$")),
            "16 random bytes in base64",
        ),
    ]);
}
