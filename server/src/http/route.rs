//! Requests for something another node of the cluster holds: answered with 307 to that node
//! (method, body and headers kept by the client).

use axum::extract::OriginalUri;
use axum::response::{IntoResponse as _, Redirect, Response};

use super::error::ApiError;
use crate::app::App;
use crate::lobby::home::node_of;

/// In a cluster, a redirect to the node that `id` names when `held` is false and that node is
/// another one; 404 (`what` not found) when that node is not live. None: answer here.
pub async fn elsewhere(
    app: &App,
    id: &str,
    held: bool,
    uri: &OriginalUri,
    what: &str,
) -> Result<Option<Response>, ApiError> {
    let Some(cluster) = &app.cluster else {
        return Ok(None);
    };
    match node_of(id).filter(|&n| !held && Some(n) != cluster.node_id()) {
        Some(node) => to_node(app, node, uri, what).await.map(Some),
        None => Ok(None),
    }
}

/// A redirect of this request to live node `node`; 404 (`what` not found) when it is not live.
pub async fn to_node(
    app: &App,
    node: u64,
    uri: &OriginalUri,
    what: &str,
) -> Result<Response, ApiError> {
    let cluster = app
        .cluster
        .as_ref()
        .ok_or_else(|| ApiError::not_found(what))?;
    let holder = cluster
        .lease_of(node)
        .await?
        .ok_or_else(|| ApiError::not_found(what))?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    Ok(Redirect::temporary(&format!("{}{path}", holder.url)).into_response())
}
