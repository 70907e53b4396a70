//! What spectators see of one entity, read from the room's replica and decoded with the game's
//! schema: no game-specific code, and nothing owner-only.

use std::collections::HashMap;

use protocol::NetId;
use protocol::api::{SpectatorEntity, SpectatorFields, SpectatorPos, SpectatorValue};
use protocol::cursor::Cursor;
use protocol::replica::ReplicaEntity;
use protocol::schema::{ComponentDef, Schema};
use protocol::{Replica, Value, WireType};

/// Every replicated entity of `replica` by ascending id, with the player names of `names`.
pub fn entities(
    replica: &Replica,
    schema: &Schema,
    names: &HashMap<NetId, String>,
) -> Vec<SpectatorEntity> {
    replica
        .entities()
        .map(|e| entity(&e, schema, names))
        .collect()
}

/// One entity: its kind's name, its position if it has one, its player's name, and the fields
/// of its shared components.
fn entity(
    e: &ReplicaEntity<'_>,
    schema: &Schema,
    names: &HashMap<NetId, String>,
) -> SpectatorEntity {
    let pos = e.position();
    let mut fields = SpectatorFields::new();
    for (index, bytes) in e.components() {
        match schema.components.get(index) {
            Some(def) if !def.owner_only => decode(def, bytes, &mut fields),
            Some(_) => {}
            None => tracing::error!(index, "the replica holds a component the schema lacks"),
        }
    }
    SpectatorEntity {
        id: e.id,
        kind: schema
            .kinds
            .get(e.kind as usize)
            .cloned()
            .unwrap_or_default(),
        x: pos.map(|p| p.x),
        y: pos.map(|p| p.y),
        name: names.get(&e.id).cloned(),
        fields,
    }
}

/// Adds the fields of one encoded component to `fields`, keyed `Component.field`.
fn decode(def: &ComponentDef, bytes: &[u8], fields: &mut SpectatorFields) {
    let mut cursor = Cursor::new(bytes);
    for field in &def.fields {
        match field.ty.read(&mut cursor) {
            Ok(value) => {
                fields.insert(
                    format!("{}.{}", def.name, field.name),
                    json_value(field.ty, value),
                );
            }
            Err(e) => {
                tracing::error!(component = %def.name, field = %field.name, error = %e,
                    "the replica holds a component its schema does not decode");
                return;
            }
        }
    }
}

/// A decoded value as JSON: fixed-point numbers divided by their scale.
fn json_value(ty: WireType, value: Value) -> SpectatorValue {
    match (ty, value) {
        (WireType::Fixed { scale }, Value::Int(raw)) => {
            SpectatorValue::Number(raw as f64 / f64::from(scale.max(1)))
        }
        (_, Value::Int(v)) => SpectatorValue::Int(v),
        (_, Value::Bool(b)) => SpectatorValue::Bool(b),
        (_, Value::Str(s)) => SpectatorValue::Text(s),
        (_, Value::Pos(p)) => SpectatorValue::Pos(SpectatorPos { x: p.x, y: p.y }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::schema::FieldDef;

    fn def(name: &str, owner_only: bool, fields: &[(&str, WireType)]) -> ComponentDef {
        ComponentDef {
            name: name.into(),
            owner_only,
            fields: fields
                .iter()
                .map(|&(n, ty)| FieldDef { name: n.into(), ty })
                .collect(),
        }
    }

    #[test]
    fn decodes_every_wire_type_to_json() {
        let def = def(
            "C",
            false,
            &[
                ("b", WireType::Bool),
                ("n", WireType::I16),
                ("f", WireType::Fixed { scale: 4 }),
                ("s", WireType::Str { max_len: 8 }),
                ("p", WireType::Pos),
            ],
        );
        let values = [
            Value::Bool(true),
            Value::Int(-3),
            Value::Int(10),
            Value::Str("ada".into()),
            Value::Pos(protocol::QPos::new(5, -7)),
        ];
        let mut bytes = Vec::new();
        for (f, v) in def.fields.iter().zip(&values) {
            f.ty.write(v, &mut bytes).unwrap();
        }
        let mut fields = SpectatorFields::new();
        decode(&def, &bytes, &mut fields);
        assert_eq!(fields["C.b"], SpectatorValue::Bool(true));
        assert_eq!(fields["C.n"], SpectatorValue::Int(-3));
        assert_eq!(fields["C.f"], SpectatorValue::Number(2.5));
        assert_eq!(fields["C.s"], SpectatorValue::Text("ada".into()));
        assert_eq!(
            fields["C.p"],
            SpectatorValue::Pos(SpectatorPos { x: 5, y: -7 })
        );
    }

    #[test]
    fn truncated_bytes_keep_the_fields_read_so_far() {
        let def = def("C", false, &[("a", WireType::U8), ("b", WireType::U8)]);
        let mut fields = SpectatorFields::new();
        decode(&def, &[7], &mut fields);
        assert_eq!(fields.len(), 1);
        assert_eq!(fields["C.a"], SpectatorValue::Int(7));
    }
}
