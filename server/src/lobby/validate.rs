//! Checks on every name a client sends.

use unicode_width::UnicodeWidthChar as _;

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

/// A lobby name: 1–64 characters, at least one of them visible, with no control character and
/// no bidirectional formatting control (which could make a name read as something else).
pub fn lobby_name(name: &str) -> Result<(), LobbyError> {
    let chars = name.chars().count();
    let ok = (1..=MAX_LOBBY_NAME).contains(&chars)
        && !name.chars().any(|c| c.is_control() || is_bidi_control(c))
        && name.chars().any(is_visible);
    ok.then_some(()).ok_or(LobbyError::Invalid {
        field: "name",
        message: format!(
            "must be 1-{MAX_LOBBY_NAME} characters, at least one visible, without control or \
             bidirectional formatting characters"
        ),
    })
}

/// Whether `c` is a bidirectional formatting control: the embeddings and overrides
/// U+202A–U+202E, the isolates U+2066–U+2069, the marks U+200E, U+200F and U+061C.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `c` draws something: not whitespace, not a control, and not of zero width
/// (zero-width spaces and joiners, format characters, default-ignorable code points and
/// combining marks have zero width).
pub fn is_visible(c: char) -> bool {
    !c.is_whitespace() && c.width().is_some_and(|w| w > 0)
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
        for bad in [
            "",
            " x",
            "x ",
            "a\u{0}b",
            "é",
            "\u{200B}",
            "a\u{202E}b",
            &"x".repeat(33),
        ] {
            assert!(player_name("player_name", bad).is_err(), "{bad:?}");
        }
        assert!(tag("mode", "deathmatch_2").is_ok());
        assert!(tag("mode", "DM").is_err());
        assert!(lobby_name("Friday night 🎮").is_ok());
        assert!(lobby_name("  ").is_err());
        assert!(
            lobby_name("a\u{200B}b").is_ok(),
            "an inner zero-width space is harmless"
        );
        for invisible in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
            "\u{3000}\u{00A0}",
            "\u{0301}\u{034F}",
            "\u{00AD}\u{180E}",
        ] {
            assert!(lobby_name(invisible).is_err(), "{invisible:?}");
        }
        for bidi in ["ab\u{202E}cd", "\u{2066}x", "x\u{200F}", "x\u{061C}y"] {
            assert!(lobby_name(bidi).is_err(), "{bidi:?}");
        }
        assert!(skill(f64::NAN).is_err() && skill(-1.0).is_err() && skill(1500.0).is_ok());
    }
}
