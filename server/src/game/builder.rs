//! [`GameBuilder`]: where a game declares its kinds, components, input, events, systems and
//! lifecycle hooks for one room.

use std::any::TypeId;
use std::collections::HashSet;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::ScheduleConfigs;
use bevy_ecs::system::{IntoObserverSystem, ScheduleSystem};
use protocol::codec::MAX_CLIENT_MSG;
use protocol::schema::{ComponentDef, EventDef, FieldDef, Param, Schema};
use protocol::wire::Wire;

use super::engine::{
    Bot, Player, PlayerDropped, PlayerInput, PlayerJoined, PlayerLeft, PlayerResumed, RoomInfo,
};
use super::events::GameEvents;
use super::sync::{ComponentSync, PositionSync, Synced, decode_inputs};
use super::{BotBrainSet, TickSet};

/// The most bytes of an input message before the game's fields: tag, `seq`, `client_tick`.
const INPUT_HEADER_LEN: usize = 11;

/// Why a game's definition cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("game `{game}`: {reason}")]
pub struct GameError {
    /// The game's name.
    pub game: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What building a game produced for one room.
pub(crate) struct Built {
    /// The schema clients receive.
    pub schema: Schema,
    /// One sync per replicated component, position first.
    pub syncs: Vec<Box<dyn ComponentSync>>,
    /// Whether the game drives bots ([`GameBuilder::bot_brain`]).
    pub bot_brain: bool,
}

/// Declares a game in one room's world: [`super::Game::build`] receives one per room.
///
/// Every method returns the builder, so that declarations chain. Mistakes (a name used twice, a
/// limit of PROTOCOL.md broken, two input types) are collected and reported when the server
/// starts, before any room opens.
pub struct GameBuilder<'a> {
    world: &'a mut World,
    schedule: &'a mut Schedule,
    startup: &'a mut Schedule,
    schema: Schema,
    syncs: Vec<Box<dyn ComponentSync>>,
    types: HashSet<TypeId>,
    errors: Vec<String>,
    bot_brain: bool,
    bots: bool,
}

impl<'a> GameBuilder<'a> {
    /// A builder for game `name` adding to a room's world, tick schedule and startup schedule,
    /// for a room that may get `bots` or not (then a bot brain is recorded, not scheduled).
    pub(crate) fn new(
        name: &str,
        world: &'a mut World,
        schedule: &'a mut Schedule,
        startup: &'a mut Schedule,
        bots: bool,
    ) -> Self {
        world.init_resource::<GameEvents>();
        let syncs: Vec<Box<dyn ComponentSync>> = vec![Box::new(PositionSync::new(world))];
        Self {
            world,
            schedule,
            startup,
            schema: Schema {
                game: name.to_owned(),
                params: Vec::new(),
                kinds: vec![protocol::schema::PLAYER_KIND.to_owned()],
                components: vec![Schema::position()],
                input: Vec::new(),
                events: Vec::new(),
            },
            syncs,
            types: HashSet::new(),
            errors: Vec::new(),
            bot_brain: false,
            bots,
        }
    }

    /// The room and the server's settings for it.
    pub fn room(&self) -> &RoomInfo {
        self.world.resource::<RoomInfo>()
    }

    /// Declares an entity kind for the game's own entities (spawn them with
    /// [`super::Replicate::kind`]). Kind 0, `player`, is every player's avatar.
    ///
    /// ```
    /// use server::game::prelude::*;
    ///
    /// struct Trees;
    /// impl Game for Trees {
    ///     fn name(&self) -> &'static str { "trees" }
    ///     fn build(&self, game: &mut GameBuilder) {
    ///         game.kind("tree").add_startup_systems(|mut commands: Commands| {
    ///             commands.spawn((Replicate::kind("tree"), Position(QPos::new(500, 500))));
    ///         });
    ///     }
    /// }
    /// assert_eq!(server::game::check(&Trees).unwrap().kinds, ["player", "tree"]);
    /// ```
    pub fn kind(&mut self, name: &'static str) -> &mut Self {
        self.schema.kinds.push(name.to_owned());
        self
    }

    /// Replicates component `C` to every player: its changes travel in the shared part of each
    /// frame, encoded once per tick.
    pub fn replicate<C: Component + Wire>(&mut self) -> &mut Self {
        self.add_component::<C>(false)
    }

    /// Replicates component `C` only to the player that owns the entity ([`super::Owner`]), in
    /// that client's own part of each frame.
    ///
    /// ```
    /// use server::game::prelude::*;
    ///
    /// wire_struct! {
    ///     /// Cards only their holder may see.
    ///     #[derive(Component, Clone, Debug, Default)]
    ///     pub struct Hand { pub cards: Text<52> }
    /// }
    ///
    /// struct Cards;
    /// impl Game for Cards {
    ///     fn name(&self) -> &'static str { "cards" }
    ///     fn build(&self, game: &mut GameBuilder) {
    ///         game.replicate_to_owner::<Hand>().on_join(
    ///             |joined: On<PlayerJoined>, mut commands: Commands| {
    ///                 commands.entity(joined.entity).insert(Hand::default());
    ///             },
    ///         );
    ///     }
    /// }
    /// let schema = server::game::check(&Cards).unwrap();
    /// assert!(schema.components[1].owner_only);
    /// ```
    pub fn replicate_to_owner<C: Component + Wire>(&mut self) -> &mut Self {
        self.add_component::<C>(true)
    }

    fn add_component<C: Component + Wire>(&mut self, owner_only: bool) -> &mut Self {
        if !self.first_use::<C>(C::NAME) {
            return self;
        }
        let index = self.schema.components.len();
        self.schema.components.push(ComponentDef {
            name: C::NAME.to_owned(),
            owner_only,
            fields: C::FIELDS.iter().map(FieldDef::from).collect(),
        });
        self.syncs
            .push(Box::new(Synced::<C>::new(self.world, index)));
        self
    }

    /// Declares the game's input type. Every player gets a [`super::PlayerInput<I>`] holding
    /// its latest input, decoded at the start of each tick; the game's systems validate what it
    /// means. At most one input type per game.
    pub fn input<I: Wire + Clone + Default + Send + Sync + 'static>(&mut self) -> &mut Self {
        if !self.schema.input.is_empty() {
            self.errors
                .push(format!("a second input type `{}`", I::NAME));
            return self;
        }
        self.schema.input = I::FIELDS.iter().map(FieldDef::from).collect();
        self.world
            .register_required_components::<Player, PlayerInput<I>>();
        self.schedule.add_systems(
            decode_inputs::<I>
                .in_set(TickSet::Receive)
                .after(crate::room::systems::receive),
        );
        self
    }

    /// Declares event type `E`; raise it with [`super::GameEvents`].
    ///
    /// ```
    /// use server::game::prelude::*;
    ///
    /// wire_struct! {
    ///     #[derive(Clone, Debug)]
    ///     pub struct Goal { pub scorer: u32, pub minute: u8 }
    /// }
    ///
    /// struct Football;
    /// impl Game for Football {
    ///     fn name(&self) -> &'static str { "football" }
    ///     fn build(&self, game: &mut GameBuilder) {
    ///         game.event::<Goal>();
    ///     }
    /// }
    /// let schema = server::game::check(&Football).unwrap();
    /// assert_eq!(schema.events[0].name, "Goal");
    /// assert_eq!(schema.events[0].fields[1].name, "minute");
    /// ```
    pub fn event<E: Wire + 'static>(&mut self) -> &mut Self {
        if !self.first_use::<E>(E::NAME) {
            return self;
        }
        let index = self.schema.events.len() as u32;
        self.schema.events.push(EventDef {
            name: E::NAME.to_owned(),
            fields: E::FIELDS.iter().map(FieldDef::from).collect(),
        });
        self.world.resource_mut::<GameEvents>().declare::<E>(index);
        self
    }

    /// Tells clients a named number (in the schema's `params`), e.g. a speed or a score limit.
    pub fn param(&mut self, name: &str, value: i64) -> &mut Self {
        self.schema.params.push(Param {
            name: name.to_owned(),
            value,
        });
        self
    }

    /// Inserts a resource the game's systems use.
    pub fn insert_resource<R: Resource>(&mut self, resource: R) -> &mut Self {
        self.world.insert_resource(resource);
        self
    }

    /// Adds systems to the Simulate phase of every tick, after the inputs are decoded (and the
    /// bot brain has run) and before the world is replicated.
    pub fn add_systems<M>(
        &mut self,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        let systems: ScheduleConfigs<ScheduleSystem> = systems
            .into_configs()
            .in_set(TickSet::Simulate)
            .after(BotBrainSet);
        self.schedule.add_systems(systems);
        self
    }

    /// Declares the game's bot brain: systems that run each tick at the start of the Simulate
    /// phase, before the game's own systems, and write the [`PlayerInput`] of the avatars
    /// marked [`super::Bot`] (with [`PlayerInput::apply`]), as the receive phase writes the
    /// inputs humans send; the game's systems then validate and apply them unchanged. Only a
    /// game with a brain gets bots (`--bots-per-room`, `--fill-with-bots-after`, `--demo`).
    ///
    /// ```
    /// use server::game::prelude::*;
    ///
    /// wire_struct! {
    ///     #[derive(Clone, Debug, Default, PartialEq)]
    ///     pub struct Walk { pub dx: i8 }
    /// }
    ///
    /// struct Right;
    /// impl Game for Right {
    ///     fn name(&self) -> &'static str { "right" }
    ///     fn build(&self, game: &mut GameBuilder) {
    ///         game.input::<Walk>().bot_brain(
    ///             |mut bots: Query<&mut PlayerInput<Walk>, With<Bot>>| {
    ///                 for mut input in &mut bots {
    ///                     if input.latest.dx != 1 {
    ///                         input.apply(Walk { dx: 1 });
    ///                     }
    ///                 }
    ///             },
    ///         );
    ///     }
    /// }
    /// # server::game::check(&Right).unwrap();
    /// ```
    pub fn bot_brain<M>(
        &mut self,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        if !self.bots {
            // A room that can never get bots runs no brain, not even its run condition.
            self.bot_brain = true;
            return self;
        }
        let systems: ScheduleConfigs<ScheduleSystem> = systems
            .into_configs()
            .in_set(TickSet::Simulate)
            .in_set(BotBrainSet);
        self.schedule.add_systems(systems);
        if !self.bot_brain {
            // A room without bots pays nothing for the brain (one check, however many brains).
            self.schedule
                .configure_sets(BotBrainSet.run_if(any_with_component::<Bot>));
        }
        self.bot_brain = true;
        self
    }

    /// Adds systems that run once, when the room opens (to spawn the game's first entities).
    pub fn add_startup_systems<M>(
        &mut self,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        self.startup.add_systems(systems);
        self
    }

    /// Runs `observer` when a player joins ([`PlayerJoined`]).
    pub fn on_join<M>(&mut self, observer: impl IntoObserverSystem<PlayerJoined, M>) -> &mut Self {
        self.world.add_observer(observer);
        self
    }

    /// Runs `observer` when a player's connection drops ([`PlayerDropped`]).
    pub fn on_drop<M>(&mut self, observer: impl IntoObserverSystem<PlayerDropped, M>) -> &mut Self {
        self.world.add_observer(observer);
        self
    }

    /// Runs `observer` when a player resumes ([`PlayerResumed`]).
    pub fn on_resume<M>(
        &mut self,
        observer: impl IntoObserverSystem<PlayerResumed, M>,
    ) -> &mut Self {
        self.world.add_observer(observer);
        self
    }

    /// Runs `observer` just before a player's avatar is despawned ([`PlayerLeft`]).
    pub fn on_leave<M>(&mut self, observer: impl IntoObserverSystem<PlayerLeft, M>) -> &mut Self {
        self.world.add_observer(observer);
        self
    }

    /// Whether `T` is declared for the first time; records an error otherwise.
    fn first_use<T: 'static>(&mut self, name: &str) -> bool {
        let first = self.types.insert(TypeId::of::<T>());
        if !first {
            self.errors.push(format!("`{name}` declared twice"));
        }
        first
    }

    /// The schema and component syncs, or every mistake found.
    pub(crate) fn finish(self) -> Result<Built, GameError> {
        let fail = |reason: String| GameError {
            game: self.schema.game.clone(),
            reason,
        };
        let input_len = INPUT_HEADER_LEN
            + self
                .schema
                .input
                .iter()
                .map(|f| f.ty.max_encoded_len())
                .sum::<usize>();
        if input_len > MAX_CLIENT_MSG {
            let max = MAX_CLIENT_MSG - INPUT_HEADER_LEN;
            return Err(fail(format!(
                "the input's fields take up to {} bytes; a client message holds {max}",
                input_len - INPUT_HEADER_LEN
            )));
        }
        if !self.errors.is_empty() {
            return Err(fail(self.errors.join("; ")));
        }
        self.schema.check().map_err(|e| fail(e.to_string()))?;
        Ok(Built {
            schema: self.schema,
            syncs: self.syncs,
            bot_brain: self.bot_brain,
        })
    }
}

#[cfg(test)]
mod tests {
    use protocol::wire::Text;

    use super::super::{Game, check};
    use super::*;

    protocol::wire_struct! {
        #[derive(Clone, Debug, Default)]
        struct Chat { line: Text<250> }
    }

    protocol::wire_struct! {
        #[derive(Component, Clone, Debug, Default)]
        struct Hp { points: u16 }
    }

    struct Verbose;
    impl Game for Verbose {
        fn name(&self) -> &'static str {
            "verbose"
        }
        fn build(&self, game: &mut GameBuilder) {
            game.input::<Chat>();
        }
    }

    struct Twice;
    impl Game for Twice {
        fn name(&self) -> &'static str {
            "twice"
        }
        fn build(&self, game: &mut GameBuilder) {
            game.replicate::<Hp>().replicate_to_owner::<Hp>();
        }
    }

    #[test]
    fn an_input_that_cannot_fit_a_client_message_is_refused_at_build() {
        let e = check(&Verbose).unwrap_err();
        assert!(e.reason.contains("input"), "{e}");
    }

    #[test]
    fn a_type_declared_twice_is_refused_at_build() {
        let e = check(&Twice).unwrap_err();
        assert!(e.reason.contains("`Hp` declared twice"), "{e}");
    }
}
