//! Serde helpers that write a list of id-keyed items as `(gap, item)` pairs.
//!
//! The first gap is the first id itself; every later gap is the id minus the previous id and is
//! at least 1, so the list is strictly ascending by construction and ids stay one-byte varints.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Error as _, SeqAccess, Visitor};
use serde::ser::{Error as _, SerializeSeq};
use serde::{Deserializer, Serialize, Serializer};

use crate::frame::NetId;

/// Most items preallocated while decoding one list, whatever length the input claims.
const MAX_PREALLOCATED: usize = 4096;

/// An item that carries a [`NetId`] which its own `Serialize` leaves out.
pub(crate) trait HasNetId {
    /// The item's id.
    fn net_id(&self) -> NetId;
    /// Sets the id after the item was decoded without it.
    fn set_net_id(&mut self, id: NetId);
}

/// Writes `items` as a sequence of `(gap, item)`; fails unless ids strictly ascend.
pub(crate) fn serialize<S, T>(items: &[T], serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: HasNetId + Serialize,
{
    let mut seq = serializer.serialize_seq(Some(items.len()))?;
    let mut previous: Option<NetId> = None;
    for item in items {
        let id = item.net_id();
        let gap = match previous {
            None => id,
            Some(p) if id > p => id - p,
            Some(p) => {
                return Err(S::Error::custom(format_args!(
                    "ids must strictly ascend: {id} follows {p}"
                )));
            }
        };
        seq.serialize_element(&(gap, item))?;
        previous = Some(id);
    }
    seq.end()
}

/// Reads a sequence written by [`serialize`], restoring every id.
pub(crate) fn deserialize<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: HasNetId + DeserializeOwned,
{
    deserializer.deserialize_seq(GapVisitor(PhantomData))
}

struct GapVisitor<T>(PhantomData<T>);

impl<'de, T: HasNetId + DeserializeOwned> Visitor<'de> for GapVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of (id gap, item) pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOCATED));
        let mut previous: Option<NetId> = None;
        while let Some((gap, mut item)) = seq.next_element::<(NetId, T)>()? {
            let id = match previous {
                None => gap,
                Some(_) if gap == 0 => {
                    return Err(A::Error::custom("id gap of 0 after the first id"));
                }
                Some(p) => p
                    .checked_add(gap)
                    .ok_or_else(|| A::Error::custom("id overflows u32"))?,
            };
            item.set_net_id(id);
            items.push(item);
            previous = Some(id);
        }
        Ok(items)
    }
}
