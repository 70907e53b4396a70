//! The schema message: what a game's entities, components, inputs and events look like, so that
//! a client decodes a game it has never seen.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::wire::{Field, WireType};

/// Name of component 0, the engine's position, which every game has.
pub const POSITION: &str = "Position";
/// Name of its one field.
pub const POSITION_FIELD: &str = "pos";
/// Name of entity kind 0, a player's avatar, which every game has.
pub const PLAYER_KIND: &str = "player";

/// Most components a game declares (a component set is a 64-bit mask).
pub const MAX_COMPONENTS: usize = 64;
/// Most fields of one component, event or input.
pub const MAX_FIELDS: usize = 32;
/// Most entity kinds (ids 0..=254).
pub const MAX_KINDS: usize = 255;
/// Most event types.
pub const MAX_EVENTS: usize = 255;
/// Most parameters.
pub const MAX_PARAMS: usize = 32;
/// Longest name (of a game, kind, component, field, event or parameter), in bytes.
pub const MAX_NAME: usize = 32;

/// One field as the schema carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Its name.
    pub name: String,
    /// How it travels.
    pub ty: WireType,
}

impl From<&Field> for FieldDef {
    fn from(f: &Field) -> Self {
        Self {
            name: f.name.to_owned(),
            ty: f.ty,
        }
    }
}

/// A replicated component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentDef {
    /// Its name.
    pub name: String,
    /// Whether it reaches only the player who owns the entity, in that client's own part of
    /// each frame.
    pub owner_only: bool,
    /// Its fields, in wire order (may be empty: a marker).
    pub fields: Vec<FieldDef>,
}

/// An event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDef {
    /// Its name.
    pub name: String,
    /// Its fields, in wire order.
    pub fields: Vec<FieldDef>,
}

/// A named number the game tells its clients (e.g. `max_speed` in quanta per tick).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: i64,
}

/// Everything a client needs to decode a game's frames and write its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// The game's name.
    pub game: String,
    /// Named numbers of the game and room.
    pub params: Vec<Param>,
    /// Entity kinds by index; 0 is [`PLAYER_KIND`].
    pub kinds: Vec<String>,
    /// Replicated components by index; 0 is [`POSITION`].
    pub components: Vec<ComponentDef>,
    /// The fields of an input, after `seq` and `client_tick`.
    pub input: Vec<FieldDef>,
    /// Event types by index.
    pub events: Vec<EventDef>,
}

/// Why a schema is not one this protocol allows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    /// A list is longer than its limit.
    #[error("too many {what}: {count} (at most {max})")]
    TooMany {
        /// What the list holds.
        what: &'static str,
        /// Its length.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A name is empty, too long, or used twice in its list.
    #[error("bad name `{0}`: 1 to 32 bytes, unique within its list")]
    BadName(String),
    /// Component 0 is not the engine's position, or kind 0 not the player.
    #[error("component 0 must be `Position {{ pos: Pos }}` and kind 0 `player`")]
    MissingBuiltins,
    /// A fixed-point field with a scale of 0.
    #[error("field `{0}` has a fixed-point scale of 0")]
    ZeroScale(String),
}

impl Schema {
    /// The component-0 definition every schema starts with.
    pub fn position() -> ComponentDef {
        ComponentDef {
            name: POSITION.to_owned(),
            owner_only: false,
            fields: vec![FieldDef {
                name: POSITION_FIELD.to_owned(),
                ty: WireType::Pos,
            }],
        }
    }

    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<i64> {
        self.params.iter().find(|p| p.name == name).map(|p| p.value)
    }

    /// The index of the entity kind called `name`.
    pub fn kind_index(&self, name: &str) -> Option<u32> {
        self.kinds.iter().position(|k| k == name).map(|i| i as u32)
    }

    /// The index of the component called `name`.
    pub fn component_index(&self, name: &str) -> Option<usize> {
        self.components.iter().position(|c| c.name == name)
    }

    /// The index of the event type called `name`.
    pub fn event_index(&self, name: &str) -> Option<usize> {
        self.events.iter().position(|e| e.name == name)
    }

    /// Checks every limit of PROTOCOL.md "Schema"; a client should refuse a schema that fails.
    pub fn check(&self) -> Result<(), SchemaError> {
        if self.components.first() != Some(&Self::position())
            || self.kinds.first().map(String::as_str) != Some(PLAYER_KIND)
        {
            return Err(SchemaError::MissingBuiltins);
        }
        check_name(&self.game)?;
        limit("parameters", self.params.len(), MAX_PARAMS)?;
        limit("kinds", self.kinds.len(), MAX_KINDS)?;
        limit("components", self.components.len(), MAX_COMPONENTS)?;
        limit("events", self.events.len(), MAX_EVENTS)?;
        unique(self.params.iter().map(|p| p.name.as_str()))?;
        unique(self.kinds.iter().map(String::as_str))?;
        unique(self.components.iter().map(|c| c.name.as_str()))?;
        unique(self.events.iter().map(|e| e.name.as_str()))?;
        check_fields(&self.input)?;
        for c in &self.components {
            check_fields(&c.fields)?;
        }
        for e in &self.events {
            check_fields(&e.fields)?;
        }
        Ok(())
    }
}

fn limit(what: &'static str, count: usize, max: usize) -> Result<(), SchemaError> {
    if count > max {
        return Err(SchemaError::TooMany { what, count, max });
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), SchemaError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(SchemaError::BadName(name.to_owned()));
    }
    Ok(())
}

fn unique<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Result<(), SchemaError> {
    for (i, name) in names.clone().enumerate() {
        check_name(name)?;
        if names.clone().take(i).any(|n| n == name) {
            return Err(SchemaError::BadName(name.to_owned()));
        }
    }
    Ok(())
}

fn check_fields(fields: &[FieldDef]) -> Result<(), SchemaError> {
    limit("fields", fields.len(), MAX_FIELDS)?;
    unique(fields.iter().map(|f| f.name.as_str()))?;
    match fields
        .iter()
        .find(|f| matches!(f.ty, WireType::Fixed { scale: 0 }))
    {
        Some(f) => Err(SchemaError::ZeroScale(f.name.clone())),
        None => Ok(()),
    }
}
