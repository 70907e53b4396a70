//! What changed between two spectator states: the body of a `delta` event.

use std::cmp::Ordering;

use protocol::api::{
    SpectatorChange, SpectatorDelta, SpectatorEntity, SpectatorFields, SpectatorMove,
    SpectatorSnapshot,
};

/// What changed from `before` to `after`; both list entities by ascending id.
pub fn diff(before: &SpectatorSnapshot, after: &SpectatorSnapshot) -> SpectatorDelta {
    diff_entities(
        (before.tick, before.entities.iter()),
        (after.tick, after.entities.iter()),
    )
}

/// What changed from the entities of one tick to those of a later one, each given by ascending
/// id: an entity only in `before` is despawned, one only in `after` spawned whole.
pub fn diff_entities<'a>(
    (baseline, before): (u32, impl Iterator<Item = &'a SpectatorEntity>),
    (tick, after): (u32, impl Iterator<Item = &'a SpectatorEntity>),
) -> SpectatorDelta {
    let mut delta = SpectatorDelta {
        tick,
        baseline,
        moved: Vec::new(),
        spawned: Vec::new(),
        despawned: Vec::new(),
        changed: Vec::new(),
    };
    let (mut old, mut new) = (before.peekable(), after.peekable());
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(o), Some(n)) => o.id.cmp(&n.id),
        };
        match order {
            Ordering::Less => delta.despawned.extend(old.next().map(|o| o.id)),
            Ordering::Greater => delta.spawned.extend(new.next().cloned()),
            Ordering::Equal => {
                if let (Some(o), Some(n)) = (old.next(), new.next()) {
                    update(&mut delta, o, n);
                }
            }
        }
    }
    delta
}

/// Records how one entity that exists in both states changed.
fn update(delta: &mut SpectatorDelta, o: &SpectatorEntity, n: &SpectatorEntity) {
    if !same_shape(o, n) {
        delta.spawned.push(n.clone());
        return;
    }
    if let (Some(x), Some(y)) = (n.x, n.y)
        && (o.x, o.y) != (n.x, n.y)
    {
        delta.moved.push(SpectatorMove { id: n.id, x, y });
    }
    let fields: SpectatorFields = n
        .fields
        .iter()
        .filter(|(k, v)| o.fields.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !fields.is_empty() {
        delta.changed.push(SpectatorChange { id: n.id, fields });
    }
}

/// Whether `n` can be told as moves and field changes of `o`: same kind and name, a position in
/// both or neither, the same field names.
fn same_shape(o: &SpectatorEntity, n: &SpectatorEntity) -> bool {
    o.kind == n.kind
        && o.name == n.name
        && o.x.is_some() == n.x.is_some()
        && o.fields.len() == n.fields.len()
        && o.fields.keys().eq(n.fields.keys())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::api::SpectatorValue;

    fn entity(id: u32, x: Option<i32>, points: i64) -> SpectatorEntity {
        SpectatorEntity {
            id,
            kind: "player".into(),
            x,
            y: x.map(|_| 0),
            name: None,
            fields: [("Score.points".to_owned(), SpectatorValue::Int(points))].into(),
        }
    }

    fn snapshot(tick: u32, entities: Vec<SpectatorEntity>) -> SpectatorSnapshot {
        SpectatorSnapshot {
            room_id: 1,
            tick,
            tick_rate: 30,
            update_hz: 10,
            width: 100,
            height: 100,
            interest_radius: 0.0,
            viewport: None,
            entities,
        }
    }

    #[test]
    fn diff_finds_moves_spawns_and_despawns() {
        let d = diff(
            &snapshot(
                3,
                vec![
                    entity(1, Some(0), 0),
                    entity(2, Some(5), 0),
                    entity(4, Some(9), 0),
                ],
            ),
            &snapshot(
                6,
                vec![
                    entity(2, Some(6), 0),
                    entity(3, Some(1), 0),
                    entity(4, Some(9), 0),
                ],
            ),
        );
        assert_eq!((d.baseline, d.tick), (3, 6));
        assert_eq!(d.despawned, [1]);
        assert_eq!(d.moved, [SpectatorMove { id: 2, x: 6, y: 0 }]);
        assert_eq!(d.spawned.iter().map(|e| e.id).collect::<Vec<_>>(), [3]);
        assert!(d.changed.is_empty());
    }

    #[test]
    fn diff_sends_only_changed_fields() {
        let mut before = entity(1, None, 2);
        before
            .fields
            .insert("Round.running".into(), SpectatorValue::Bool(true));
        let mut after = entity(1, None, 3);
        after
            .fields
            .insert("Round.running".into(), SpectatorValue::Bool(true));
        let d = diff(&snapshot(1, vec![before]), &snapshot(2, vec![after]));
        assert!(d.moved.is_empty() && d.spawned.is_empty());
        assert_eq!(d.changed.len(), 1);
        assert_eq!(
            d.changed[0].fields,
            [("Score.points".to_owned(), SpectatorValue::Int(3))].into()
        );
    }

    #[test]
    fn an_entity_that_gains_a_position_is_sent_whole() {
        let d = diff(
            &snapshot(1, vec![entity(1, None, 0)]),
            &snapshot(2, vec![entity(1, Some(4), 0)]),
        );
        assert!(d.moved.is_empty() && d.changed.is_empty());
        assert_eq!(d.spawned, [entity(1, Some(4), 0)]);
    }
}
