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
use crate::config::secs;

/// Shortest request deadline, whatever the flag says.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(100);

/// Middleware: a request whose body and answer take longer than `--request-timeout` gets 408,
/// and its connection closes (the rest of its body is never read).
pub async fn deadline(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let limit = secs(app.config.request_timeout).max(MIN_REQUEST_TIMEOUT);
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
