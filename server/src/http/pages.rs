//! The spectator web page, embedded in the binary: no build step, nothing from other hosts,
//! nothing inline (the pages' Content-Security-Policy allows only this origin's files).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::browser::PAGE_CSP;
use super::error::{ApiError, ApiPath};
use crate::app::App;

const INDEX: &str = include_str!("../../static/index.html");
const INDEX_JS: &str = include_str!("../../static/index.js");
const SPECTATE: &str = include_str!("../../static/spectate.html");
const SPECTATE_JS: &str = include_str!("../../static/spectate.js");
const STYLE: &str = include_str!("../../static/style.css");

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

/// The pages' scripts and style sheet.
#[utoipa::path(get, path = "/static/{file}", tag = "pages",
    params(("file" = String, Path, description = "index.js, spectate.js or style.css")),
    responses((status = 200, description = "the file"), (status = 404, body = protocol::api::ErrorBody)))]
pub async fn asset(ApiPath(file): ApiPath<String>) -> Response {
    let (mime, body) = match file.as_str() {
        "index.js" => ("text/javascript; charset=utf-8", INDEX_JS),
        "spectate.js" => ("text/javascript; charset=utf-8", SPECTATE_JS),
        "style.css" => ("text/css; charset=utf-8", STYLE),
        _ => return ApiError::not_found("file").into_response(),
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
