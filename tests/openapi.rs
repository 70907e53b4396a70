//! The OpenAPI document at `/openapi.json`: valid, complete and exact. The validator and the
//! schema-driven fuzzer run in `tests/openapi/check.sh`; these tests hold the rules that need
//! neither.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use tests::{TestServer, config, start};

async fn document(server: &TestServer) -> Value {
    reqwest::Client::new()
        .get(server.url("/openapi.json"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every (method, path, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

fn statuses(op: &Value) -> Vec<&str> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn the_info_block_describes_this_server() {
    let server = start(config()).await;
    let doc = document(&server).await;
    assert_eq!(doc["info"]["title"], "game-server");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        !doc["info"].to_string().contains("utoipa"),
        "no library text: {}",
        doc["info"]
    );
    server.stop().await;
}

#[tokio::test]
async fn operations_have_unique_ids_and_described_responses() {
    let server = start(config()).await;
    let doc = document(&server).await;
    let mut ids = HashMap::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{method} {path} has an operationId");
        if let Some(other) = ids.insert(id.clone(), format!("{method} {path}")) {
            panic!("operationId {id} is used by {other} and {method} {path}");
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            let description = response["description"].as_str().unwrap_or_default();
            assert!(
                !description.is_empty(),
                "{method} {path} {status} has a description"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn shared_error_answers_are_documented() {
    let server = start(config()).await;
    let doc = document(&server).await;
    for (method, path, op) in operations(&doc) {
        let statuses = statuses(&op);
        if path.starts_with("/api/v1/") {
            assert!(statuses.contains(&"429"), "{method} {path} documents 429");
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params.iter().any(|p| p["in"] == "path") {
            assert!(statuses.contains(&"400"), "{method} {path} documents 400");
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    statuses.contains(&status),
                    "{method} {path} documents {status}"
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn parameters_sit_where_they_are_read_and_ids_are_uint32() {
    let server = start(config()).await;
    let doc = document(&server).await;
    let list = &doc["paths"]["/api/v1/lobbies"]["get"]["parameters"];
    for p in list.as_array().unwrap() {
        assert_eq!(p["in"], "query", "lobby list parameter {}", p["name"]);
        assert_eq!(p["required"], false, "{} is optional", p["name"]);
    }
    let room = &doc["paths"]["/api/v1/rooms/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(room["format"], "uint32", "{room}");
    assert_eq!(room["maximum"], json!(u32::MAX), "{room}");
    let ws = &doc["paths"]["/ws"]["get"];
    let headers: Vec<&Value> = ws["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "header" && p["required"] == true)
        .map(|p| &p["name"])
        .collect();
    assert_eq!(
        headers.len(),
        4,
        "the upgrade's headers are required: {headers:?}"
    );
    assert!(
        statuses(ws).contains(&"426"),
        "426 for another WebSocket version"
    );
    let seat = &doc["components"]["schemas"]["SeatGrant"]["properties"];
    assert_eq!(seat["room_id"]["format"], "uint32");
    assert_eq!(seat["player_id"]["format"], "uint32");
    server.stop().await;
}

#[tokio::test]
async fn name_and_range_rules_are_schema_constraints() {
    let server = start(config()).await;
    let doc = document(&server).await;
    let schemas = &doc["components"]["schemas"];
    let name = &schemas["JoinOrCreate"]["properties"]["player_name"];
    assert_eq!(name["minLength"], 1, "{name}");
    assert_eq!(name["maxLength"], 32, "{name}");
    assert!(name["pattern"].is_string(), "{name}");
    let mode = &schemas["CreateTicket"]["properties"]["mode"];
    assert_eq!(mode["pattern"], "^[a-z0-9_-]{1,32}$", "{mode}");
    let skill = &schemas["CreateTicket"]["properties"]["skill"];
    assert_eq!(
        (skill["minimum"].as_f64(), skill["maximum"].as_f64()),
        (Some(0.0), Some(10_000.0))
    );
    let lobby = &schemas["CreateLobby"]["properties"];
    assert_eq!(lobby["name"]["maxLength"], 64);
    assert_eq!(lobby["max_players"]["minimum"], 1);
    assert_eq!(
        lobby["max_players"]["maximum"],
        json!(config().room_capacity),
        "the server's room capacity"
    );
    let limit = &doc["paths"]["/api/v1/lobbies"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()["schema"];
    assert_eq!(
        (limit["minimum"].clone(), limit["maximum"].clone()),
        (json!(1), json!(100))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_spectator_feed_is_typed_as_server_sent_events() {
    let server = start(config()).await;
    let doc = document(&server).await;
    let body = &doc["paths"]["/api/v1/rooms/{id}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"];
    let events: Vec<&Value> = body["oneOf"].as_array().unwrap().iter().collect();
    let names: Vec<&Value> = events
        .iter()
        .map(|e| &e["properties"]["event"]["const"])
        .collect();
    assert_eq!(names, [&json!("snapshot"), &json!("delta"), &json!("end")]);
    assert_eq!(
        events[0]["properties"]["data"]["contentSchema"]["$ref"],
        "#/components/schemas/SpectatorSnapshot"
    );
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["SpectatorMove"].is_object());
    // Generic entities: fields keyed `Component.field`, any wire type's JSON value (`anyOf`: an
    // integral value is both an integer and a number), and deltas of changed fields.
    assert_eq!(
        schemas["SpectatorEntity"]["properties"]["fields"]["additionalProperties"]["$ref"],
        "#/components/schemas/SpectatorValue"
    );
    assert_eq!(
        schemas["SpectatorValue"]["anyOf"].as_array().unwrap().len(),
        5
    );
    assert!(schemas["SpectatorPos"].is_object());
    assert!(schemas["SpectatorChange"].is_object());
    // The viewport: four query parameters with the server's bounds.
    let params = doc["paths"]["/api/v1/rooms/{id}/events"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name && p["in"] == "query")
            .unwrap_or_else(|| panic!("query parameter {name}"))["schema"]
            .clone()
    };
    let max = protocol::api::MAX_VIEWPORT_UNITS;
    for name in ["x", "y"] {
        assert_eq!(
            (
                param(name)["minimum"].as_f64(),
                param(name)["maximum"].as_f64()
            ),
            (Some(-max), Some(max))
        );
    }
    for name in ["w", "h"] {
        assert_eq!(
            (
                param(name)["exclusiveMinimum"].as_f64(),
                param(name)["maximum"].as_f64()
            ),
            (Some(0.0), Some(max))
        );
    }
    assert!(schemas["SpectatorViewport"].is_object());
    assert!(
        schemas["SpectatorDelta"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("changed"))
    );
    server.stop().await;
}

#[tokio::test]
async fn an_integral_float_is_an_integer() {
    // JSON Schema's `integer` includes 4.0; the server must take what the schema allows.
    let server = start(config()).await;
    let res = reqwest::Client::new()
        .post(server.url("/api/v1/lobbies"))
        .json(&json!({"name": "Friday", "mode": "dm", "max_players": 4.0, "player_name": "ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    server.stop().await;
}

#[tokio::test]
async fn a_closed_set_of_modes_is_an_enum_of_every_request_mode() {
    let server = start(server::Config {
        modes: vec!["duel".into(), "default".into()],
        ..config()
    })
    .await;
    let doc = document(&server).await;
    for request in ["CreateLobby", "CreateTicket", "JoinOrCreate"] {
        let mode = &doc["components"]["schemas"][request]["properties"]["mode"];
        assert_eq!(
            mode["enum"],
            json!(["default", "duel"]),
            "{request}: {mode}"
        );
    }
    server.stop().await;

    let server = start(config()).await; // `--modes '*'`
    let doc = document(&server).await;
    let mode = &doc["components"]["schemas"]["JoinOrCreate"]["properties"]["mode"];
    assert!(mode.get("enum").is_none(), "any mode: {mode}");
    server.stop().await;
}
