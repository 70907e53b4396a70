//! Ids that name their home node: in a cluster, a lobby or ticket lives on the node that created
//! it, and its id starts with `n{node}-`, so any node can send a request for it there.

use tokio::sync::watch;

use super::LobbyError;

/// Where new ids say they live: nowhere in particular (a node alone), or on this cluster node.
#[derive(Debug, Clone, Default)]
pub struct Home(Option<watch::Receiver<u64>>);

impl Home {
    /// The home of a cluster node whose current id `node` follows (0 while unregistered).
    pub fn node(node: watch::Receiver<u64>) -> Self {
        Self(Some(node))
    }

    /// A new id from `token`: `n{node}-{token}` on a cluster node, `token` alone otherwise.
    /// Refused while a cluster node is between registrations.
    pub fn id(&self, token: &str) -> Result<String, LobbyError> {
        match self.0.as_ref().map(|node| *node.borrow()) {
            None => Ok(token.to_owned()),
            Some(0) => Err(LobbyError::Unavailable(
                "this node is registering in the cluster; try again".into(),
            )),
            Some(node) => Ok(format!("n{node}-{token}")),
        }
    }
}

/// The node an id names, if it names one.
pub fn node_of(id: &str) -> Option<u64> {
    let (node, _) = id.strip_prefix('n')?.split_once('-')?;
    node.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_node_only_in_a_cluster() {
        assert_eq!(Home::default().id("abc"), Ok("abc".into()));
        let (tx, rx) = watch::channel(0);
        let home = Home::node(rx);
        assert!(home.id("abc").is_err(), "unregistered");
        tx.send_replace(7);
        let id = home.id("abc").unwrap_or_default();
        assert_eq!(id, "n7-abc");
        assert_eq!(node_of(&id), Some(7));
        assert_eq!(node_of("abc"), None);
        assert_eq!(node_of("nx-abc"), None);
    }
}
