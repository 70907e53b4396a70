//! Router middleware that protects the server from a request before any handler runs, and
//! bounds how long a request may take.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::app::App;

/// Shortest request deadline (the flag refuses less; a `Config` built in code may not).
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(100);

/// Middleware: a request whose body and answer take longer than `--request-timeout` gets 408,
/// and its connection closes (the rest of its body is never read).
pub async fn deadline(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let limit = app.config.request_timeout.max(MIN_REQUEST_TIMEOUT);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => closing(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request was not complete within {limit:?}"),
        )),
    }
}

/// `error` as a response that closes the connection after it is sent.
fn closing(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Most request headers a handler sees; more get 431. hyper's own cap is
/// [`MAX_PARSED_HEADERS`], past which it answers 431 without a body.
pub const MAX_HEADERS: usize = 64;
/// hyper's cap on parsed headers: above [`MAX_HEADERS`], so that the JSON answer is the one
/// clients normally get.
pub const MAX_PARSED_HEADERS: usize = 2 * MAX_HEADERS;
/// Most bytes of request headers (names and values); more get 431. hyper's own cap is its
/// connection buffer, [`super::serve::MAX_CONN_BUFFER`].
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The WebSocket protocol version this server speaks (RFC 6455).
const WEBSOCKET_VERSION: &str = "13";

/// Middleware: refuses at once, before the body is read, a request that cannot succeed: too
/// many or too large headers (431), a declared body over the limit (413), a WebSocket upgrade
/// of another protocol version (426 with `Sec-WebSocket-Version: 13`).
pub async fn early_refusals(request: Request, next: Next) -> Response {
    match refusal(&request) {
        Some(response) => response,
        None => next.run(request).await,
    }
}

/// Why `request` is refused before it is read, if it is.
fn refusal(request: &Request) -> Option<Response> {
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return Some(closing(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("at most {MAX_HEADERS} headers of {MAX_HEADER_BYTES} bytes in all"),
        )));
    }
    if declared_length(request).is_some_and(|n| n > super::MAX_BODY as u64) {
        return Some(closing(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body may have at most {} bytes", super::MAX_BODY),
        )));
    }
    if is_websocket_upgrade(request)
        && headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|v| v.as_bytes() != WEBSOCKET_VERSION.as_bytes())
    {
        let mut response = ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported_websocket_version",
            format!("this server speaks WebSocket version {WEBSOCKET_VERSION}"),
        )
        .into_response();
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static(WEBSOCKET_VERSION),
        );
        return Some(response);
    }
    None
}

/// The request's `Content-Length` (hyper has already refused an unreadable one).
fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Whether `request` asks to upgrade to WebSocket.
fn is_websocket_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
}
