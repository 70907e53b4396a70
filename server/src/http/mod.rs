//! The HTTP side: the REST lobby API under `/api/v1`, the SSE feed, the spectator page, the game
//! WebSocket upgrade and `/healthz` on the public router; `/metrics` on the admin router
//! ([`ops::admin_router`]) or, with `--public-metrics`, on the public one.
//!
//! The accept loop ([`serve`]) and the router's edge layers ([`guards`], [`browser`],
//! [`public`]) put every connection and request under its limits and deadlines.
//!
//! Every public route is registered through `utoipa_axum`'s router, so `/openapi.json` is
//! generated from the handlers themselves and cannot drift from them; [`openapi::complete`] adds
//! the answers shared by every operation of a kind.

pub mod accept;
pub mod addr_slots;
pub mod browser;
pub mod burst;
pub mod error;
pub mod guards;
pub mod limit;
pub mod lobbies;
pub mod matchmaking;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod public;
pub mod refuse;
pub mod rooms;
pub mod sdk;
pub mod serve;
pub mod socket;
pub mod spectate;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::addr_slots::AddrSlots;
use crate::app::App;
use crate::net;

/// Largest request body, in bytes.
pub const MAX_BODY: usize = 16 * 1024;

/// The public router and the OpenAPI document generated from it; `/metrics` is on it only when
/// `public_metrics` (otherwise see [`ops::admin_router`]). With `derive_base`, seat and room URLs
/// come from each request ([`public`]).
pub fn router(
    app: Arc<App>,
    public_metrics: bool,
    derive_base: bool,
) -> (Router, serde_json::Value) {
    let api = OpenApiRouter::new()
        .routes(routes!(matchmaking::create_ticket))
        .routes(routes!(matchmaking::get_ticket, matchmaking::cancel_ticket))
        .routes(routes!(matchmaking::join_or_create))
        .routes(routes!(lobbies::create, lobbies::list))
        .routes(routes!(lobbies::get))
        .routes(routes!(lobbies::join))
        .routes(routes!(lobbies::leave))
        .routes(routes!(lobbies::start))
        .routes(routes!(rooms::list))
        .routes(routes!(rooms::get))
        .routes(routes!(spectate::events))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            limit::limit,
        ));
    let public = OpenApiRouter::new()
        .merge(api)
        .routes(routes!(sdk::module))
        .routes(routes!(sdk::types))
        .routes(routes!(net::ws_handler))
        .routes(routes!(ops::healthz))
        .routes(routes!(pages::index))
        .routes(routes!(pages::spectate))
        .routes(routes!(pages::play))
        .routes(routes!(pages::asset));
    let public = if public_metrics {
        public.routes(routes!(ops::metrics))
    } else {
        public
    };
    let (router, mut doc) = public.split_for_parts();
    doc.paths
        .paths
        .insert("/openapi.json".to_owned(), openapi_path_item());
    openapi::complete(&mut doc, &app.config);
    let doc = openapi::to_json(&doc);
    // Rendered once; every request shares the bytes.
    let json = bytes::Bytes::from(doc.to_string());
    let router = router
        .route("/openapi.json", get(move || serve_json(json.clone())))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed);
    let router = edge_layers(router, &app, derive_base)
        .layer(TraceLayer::new_for_http())
        .with_state(app);
    (router, doc)
}

/// The layers every request passes: limits and deadlines ([`guards`]), the spectator slots,
/// `nosniff`, the request's base URL ([`public`], with `derive_base`) and CORS ([`browser`]).
fn edge_layers(router: Router<Arc<App>>, app: &Arc<App>, derive_base: bool) -> Router<Arc<App>> {
    let mut router = router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guards::deadline,
        ))
        .layer(axum::middleware::from_fn(guards::early_refusals))
        .layer(Extension(spectate::SpectatorSlots(AddrSlots::new(
            app.config.spectators_per_addr,
        ))))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    if derive_base {
        router = router.layer(axum::middleware::from_fn_with_state(
            app.config.trust_proxy,
            public::derive,
        ));
    }
    match browser::cors(&app.config.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

async fn serve_json(json: bytes::Bytes) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
}

/// The document's own entry (the document cannot annotate the handler that serves it).
fn openapi_path_item() -> utoipa::openapi::PathItem {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::{PathItem, ResponseBuilder};
    let op = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("openapi"))
        .summary(Some("This OpenAPI document"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("This document (OpenAPI 3.1, JSON)")
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new().build(),
                ),
        )
        .build();
    PathItem::new(HttpMethod::Get, op)
}
