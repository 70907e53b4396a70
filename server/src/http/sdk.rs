//! The JavaScript client SDK (`protocol/js/`), embedded in the binary so that a page of this
//! server imports it from its own origin: `import { GameServer } from '/sdk/game-client.js'`.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const MODULE: &str = include_str!("../../../protocol/js/game-client.js");
const TYPES: &str = include_str!("../../../protocol/js/game-client.d.ts");

/// The SDK's ES module.
#[utoipa::path(get, path = "/sdk/game-client.js", tag = "pages", operation_id = "sdk_module",
    responses((status = 200, description = "the JavaScript client SDK, an ES module", content_type = "text/javascript", body = String)))]
pub async fn module() -> Response {
    file("text/javascript; charset=utf-8", MODULE)
}

/// The SDK's TypeScript declarations.
#[utoipa::path(get, path = "/sdk/game-client.d.ts", tag = "pages", operation_id = "sdk_types",
    responses((status = 200, description = "TypeScript declarations of the SDK", content_type = "application/typescript", body = String)))]
pub async fn types() -> Response {
    file("application/typescript; charset=utf-8", TYPES)
}

/// A file of the SDK, revalidated on every use (as the pages' files are), so a browser never
/// runs an SDK older than the server it talks to.
fn file(mime: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
