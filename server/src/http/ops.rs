//! Operations endpoints: `/healthz`, `/metrics`, `/openapi.json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;

/// The health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` while the server serves; `shutting_down` after a shutdown signal.
    pub status: &'static str,
    /// Open rooms.
    pub rooms: usize,
}

/// Whether the server serves.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz(State(app): State<Arc<App>>) -> Json<Health> {
    let status = if app.shutdown.is_cancelled() {
        "shutting_down"
    } else {
        "ok"
    };
    Json(Health {
        status,
        rooms: app.registry.len(),
    })
}

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let text = app.metrics.render(app.gauges());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
