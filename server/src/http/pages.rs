//! The web pages (the room list, the spectator page and the playable page), embedded in the
//! binary: no build step, nothing from other hosts, nothing inline (the pages'
//! Content-Security-Policy allows only this origin's files).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::browser::PAGE_CSP;
use super::error::{ApiError, ApiPath};
use crate::app::App;

const INDEX: &str = include_str!("../../static/index.html");
const SPECTATE: &str = include_str!("../../static/spectate.html");
const PLAY: &str = include_str!("../../static/play.html");
const STYLE: &str = include_str!("../../static/style.css");
/// The pages' scripts by file name: the room list's, the spectator page's, and the playable
/// page's modules.
const SCRIPTS: [(&str, &str); 9] = [
    ("index.js", include_str!("../../static/index.js")),
    ("spectate.js", include_str!("../../static/spectate.js")),
    (
        "spectate-viewport.js",
        include_str!("../../static/spectate-viewport.js"),
    ),
    ("play.js", include_str!("../../static/play.js")),
    ("play-input.js", include_str!("../../static/play-input.js")),
    ("play-pump.js", include_str!("../../static/play-pump.js")),
    ("play-draw.js", include_str!("../../static/play-draw.js")),
    ("play-hud.js", include_str!("../../static/play-hud.js")),
    ("play-world.js", include_str!("../../static/play-world.js")),
];

/// The list of live rooms.
#[utoipa::path(get, path = "/", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html", body = String)))]
pub async fn index() -> Response {
    page(INDEX)
}

/// The page that draws one room live.
#[utoipa::path(get, path = "/spectate/{id}", tag = "pages",
    params(("id" = u32, Path, description = "room id")),
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String),
        (status = 307, description = "the room runs on another node of the cluster: its page there")))]
pub async fn spectate(State(app): State<Arc<App>>, ApiPath(id): ApiPath<u32>) -> Response {
    if app.cluster.is_some()
        && app.registry.get(id).is_none()
        && let Ok((_, view)) = super::rooms::remote(&app, id).await
    {
        return Redirect::temporary(&view.spectate_url).into_response();
    }
    page(SPECTATE)
}

/// The playable page: join a room of a mode and move with the keys or a touch stick, through
/// the JavaScript SDK at `/sdk/game-client.js`.
#[utoipa::path(get, path = "/play", tag = "pages",
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String)))]
pub async fn play() -> Response {
    page(PLAY)
}

/// The pages' scripts and style sheet.
#[utoipa::path(get, path = "/static/{file}", tag = "pages",
    params(("file" = String, Path, description = "index.js, spectate.js (and spectate-viewport.js), play.js (and its play-*.js modules) or style.css")),
    responses((status = 200, description = "the file"), (status = 404, body = protocol::api::ErrorBody)))]
pub async fn asset(ApiPath(file): ApiPath<String>) -> Response {
    let script = SCRIPTS.iter().find(|(name, _)| *name == file);
    let (mime, body) = match (file.as_str(), script) {
        ("style.css", _) => ("text/css; charset=utf-8", STYLE),
        (_, Some((_, body))) => ("text/javascript; charset=utf-8", *body),
        (_, None) => return ApiError::not_found("file").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// An HTML page with its security headers.
fn page(html: &'static str) -> Response {
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
