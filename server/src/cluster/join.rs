//! Join-or-create across the cluster: the fullest open room of the mode on any live node, else a
//! new room on the least-loaded live node. The node that runs the room takes the seat with its
//! own atomic counter, so a room never goes over capacity however many nodes ask at once; the
//! directory only says where to ask first.

use std::net::IpAddr;

use protocol::api::{JoinOrCreate, SeatGrant};

use super::rpc::{self, Refusal, RemoteJoin};
use super::{Cluster, ClusterError};
use crate::app::App;
use crate::http::error::ApiError;
use crate::lobby::LobbyError;

/// Most listed rooms tried (each may have filled since it was listed) before opening a new one.
const MAX_TRIES: usize = 4;

/// A seat now, in an open room of the mode anywhere in the cluster, or in a new room.
pub async fn join_or_create(
    app: &App,
    cluster: &Cluster,
    req: &JoinOrCreate,
    creator: IpAddr,
) -> Result<SeatGrant, ApiError> {
    app.matchmaker.check_join(req)?;
    let me = cluster.node_id().ok_or(ClusterError::NotRegistered)?;
    let directory = cluster.listing().await?;
    let join = |room| RemoteJoin {
        mode: req.mode.clone(),
        player_name: req.player_name.clone(),
        room,
        creator,
    };
    for (node, room) in directory.open_rooms(&req.mode).into_iter().take(MAX_TRIES) {
        match seat_on(app, cluster, me, node.info.id, join(Some(room.room_id))).await {
            Ok(Ok(seat)) => return Ok(seat),
            Ok(Err(Refusal::Full)) | Err(ClusterError::NodeSilent(_)) => {}
            Ok(Err(refusal)) => return Err(refused(refusal)),
            Err(e) => return Err(e.into()),
        }
    }
    let target = directory.least_loaded(me).map_or(me, |n| n.info.id);
    let seat = match seat_on(app, cluster, me, target, join(None)).await {
        // The chosen node went silent since it renewed its lease: open the room here.
        Err(ClusterError::NodeSilent(_)) => seat_on(app, cluster, me, me, join(None)).await?,
        other => other?,
    };
    seat.map_err(refused)
}

/// A seat booked on `node`: here without a hop, on another node by a request.
async fn seat_on(
    app: &App,
    cluster: &Cluster,
    me: u64,
    node: u64,
    join: RemoteJoin,
) -> Result<Result<SeatGrant, Refusal>, ClusterError> {
    if node == me {
        return Ok(rpc::book(app, &join).await.map_err(rpc::refusal));
    }
    cluster.ask(node, join).await
}

/// The client's answer to a refusal.
fn refused(refusal: Refusal) -> ApiError {
    LobbyError::from(refusal).into()
}

impl From<ClusterError> for ApiError {
    fn from(e: ClusterError) -> Self {
        LobbyError::Store(e.into()).into()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::cluster::rpc::refusal;

    #[test]
    fn a_refusal_from_another_node_answers_as_the_same_refusal_here() {
        for e in [
            LobbyError::Limit("2 rooms per address".into()),
            LobbyError::Unavailable("the server holds 10 rooms".into()),
        ] {
            assert_eq!(refused(refusal(e.clone())), ApiError::from(e));
        }
        let full = refused(refusal(LobbyError::Full("the room")));
        assert_eq!(
            (full.status, full.code),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        );
        let odd = refused(refusal(LobbyError::Conflict("a clash")));
        assert_eq!(
            odd.code, "unavailable",
            "the node's trouble, not the client's"
        );
    }
}
