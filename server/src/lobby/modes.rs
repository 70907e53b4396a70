//! [`ModeSet`]: the game modes a server accepts (`--modes`).

use std::collections::BTreeSet;

use super::{LobbyError, validate};
use crate::config::Config;

/// The mode accepted when `--modes` is not given, besides those named in `--mode-capacity` or
/// `--mode-game` and the built-in games' modes (the mode client-sim asks for).
pub const DEFAULT_MODE: &str = "default";
/// Modes accepted without `--modes` because a built-in game plays them.
pub const BUILTIN_MODES: [&str; 1] = ["coins"];
/// The `--modes` entry that accepts any well-formed mode.
pub const ANY_MODE: &str = "*";

/// Parses one `--modes` entry: a well-formed mode or `*`.
pub fn parse_mode(s: &str) -> Result<String, String> {
    if s == ANY_MODE {
        return Ok(s.to_owned());
    }
    validate::tag("mode", s).map_err(|e| e.to_string())?;
    Ok(s.to_owned())
}

/// The game modes a server accepts in lobbies, tickets and join-or-create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeSet {
    /// Any well-formed mode (`--modes '*'`).
    Any,
    /// Only these.
    Only(BTreeSet<String>),
}

impl ModeSet {
    /// The modes `config` accepts: `--modes` when given (`*` for any), otherwise
    /// [`DEFAULT_MODE`], [`BUILTIN_MODES`] and every mode named in `--mode-capacity` or
    /// `--mode-game`.
    pub fn from_config(config: &Config) -> Self {
        if config.modes.iter().any(|m| m == ANY_MODE) {
            return Self::Any;
        }
        if !config.modes.is_empty() {
            return Self::Only(config.modes.iter().cloned().collect());
        }
        let named = config
            .mode_capacities
            .iter()
            .map(|(m, _)| m.clone())
            .chain(config.mode_games.iter().map(|(m, _)| m.clone()));
        Self::Only(
            [DEFAULT_MODE]
                .into_iter()
                .chain(BUILTIN_MODES)
                .map(str::to_owned)
                .chain(named)
                .collect(),
        )
    }

    /// Checks that `mode` is well formed and accepted.
    pub fn check(&self, mode: &str) -> Result<(), LobbyError> {
        validate::tag("mode", mode)?;
        match self {
            Self::Only(modes) if !modes.contains(mode) => Err(LobbyError::Invalid {
                field: "mode",
                message: format!(
                    "is not a mode this server runs (it runs: {})",
                    modes
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_default_mode_and_the_named_ones() {
        let config = Config {
            mode_capacities: vec![("duel".into(), 2)],
            ..Config::default()
        };
        let modes = ModeSet::from_config(&config);
        assert!(modes.check("default").is_ok() && modes.check("duel").is_ok());
        assert!(modes.check("fresh").is_err());
        let any = ModeSet::from_config(&Config {
            modes: vec![ANY_MODE.into()],
            ..Config::default()
        });
        assert!(any.check("fresh").is_ok() && any.check("Bad!").is_err());
        let only = ModeSet::from_config(&Config {
            modes: vec!["ctf".into()],
            ..config
        });
        assert!(only.check("ctf").is_ok() && only.check("duel").is_err());
        assert_eq!(parse_mode("*").as_deref(), Ok("*"));
        assert!(parse_mode("Bad!").is_err());
    }
}
