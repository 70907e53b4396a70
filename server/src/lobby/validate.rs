//! Checks on every name a client sends.

use super::LobbyError;

/// Longest player name.
pub const MAX_PLAYER_NAME: usize = 32;
/// Longest mode or region.
pub const MAX_TAG: usize = 32;
/// Longest lobby name.
pub const MAX_LOBBY_NAME: usize = 64;
/// Highest skill rating.
pub const MAX_SKILL: f64 = 10_000.0;

/// A player name: 1–32 ASCII letters, digits, `_`, `-`, `.` or inner spaces.
pub fn player_name(field: &'static str, name: &str) -> Result<(), LobbyError> {
    let ok = (1..=MAX_PLAYER_NAME).contains(&name.len())
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    ok.then_some(()).ok_or(LobbyError::Invalid {
        field,
        message: format!(
            "must be 1-{MAX_PLAYER_NAME} letters, digits, '_', '-', '.' or inner spaces"
        ),
    })
}

/// A mode or region: 1–32 lowercase ASCII letters, digits, `_` or `-`.
pub fn tag(field: &'static str, tag: &str) -> Result<(), LobbyError> {
    let ok = (1..=MAX_TAG).contains(&tag.len())
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
    ok.then_some(()).ok_or(LobbyError::Invalid {
        field,
        message: format!("must be 1-{MAX_TAG} lowercase letters, digits, '_' or '-'"),
    })
}

/// A lobby name: 1–64 characters, none of them control characters.
pub fn lobby_name(name: &str) -> Result<(), LobbyError> {
    let chars = name.chars().count();
    let ok = (1..=MAX_LOBBY_NAME).contains(&chars)
        && !name.chars().any(char::is_control)
        && !name.trim().is_empty();
    ok.then_some(()).ok_or(LobbyError::Invalid {
        field: "name",
        message: format!("must be 1-{MAX_LOBBY_NAME} printable characters"),
    })
}

/// A skill rating: finite, 0–10,000.
pub fn skill(skill: f64) -> Result<(), LobbyError> {
    (skill.is_finite() && (0.0..=MAX_SKILL).contains(&skill))
        .then_some(())
        .ok_or(LobbyError::Invalid {
            field: "skill",
            message: format!("must be a number from 0 to {MAX_SKILL}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_their_rules() {
        assert!(player_name("player_name", "Ada Lovelace-2.0").is_ok());
        for bad in ["", " x", "x ", "a\u{0}b", "é", &"x".repeat(33)] {
            assert!(player_name("player_name", bad).is_err(), "{bad:?}");
        }
        assert!(tag("mode", "deathmatch_2").is_ok());
        assert!(tag("mode", "DM").is_err());
        assert!(lobby_name("Friday night 🎮").is_ok());
        assert!(lobby_name("  ").is_err());
        assert!(skill(f64::NAN).is_err() && skill(-1.0).is_err() && skill(1500.0).is_ok());
    }
}
