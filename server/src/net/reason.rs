//! Close codes and human-readable reasons for client messages the server cannot accept.

use bincode::error::{DecodeError, IntegerType};
use protocol::{CloseCode, CodecError};

/// The close code and a reason a person can read (no Rust debug text) for a message that
/// could not be decoded.
pub fn refusal(e: &CodecError) -> (CloseCode, String) {
    match e {
        CodecError::TooLarge { .. } => (CloseCode::TooBig, e.to_string()),
        CodecError::VersionMismatch { .. } => (CloseCode::VersionMismatch, e.to_string()),
        CodecError::Malformed(inner) => (CloseCode::Malformed, malformed(inner)),
        CodecError::OutOfRange { field } => (
            CloseCode::Malformed,
            format!("{field} is outside the range PROTOCOL.md gives for it"),
        ),
        CodecError::Invalid(inner) => (CloseCode::Malformed, inner.to_string()),
        CodecError::Trailing { .. } | CodecError::Encode(_) | CodecError::Frame => {
            (CloseCode::Malformed, e.to_string())
        }
    }
}

/// A sentence for a bincode decode error.
fn malformed(e: &DecodeError) -> String {
    match e {
        DecodeError::UnexpectedEnd { .. } => "the message ends too early".into(),
        DecodeError::LimitExceeded => "the message claims more data than it can hold".into(),
        DecodeError::InvalidIntegerType {
            found: IntegerType::Reserved,
            ..
        } => "an integer starts with a reserved prefix byte (0xfe or 0xff)".into(),
        DecodeError::InvalidIntegerType { expected, found } => format!(
            "a {} field starts with the prefix of a longer {} (see PROTOCOL.md §3)",
            type_name(expected),
            type_name(found)
        ),
        DecodeError::UnexpectedVariant { found, .. } => {
            format!("unknown variant index {found}")
        }
        DecodeError::InvalidBooleanValue(v) => {
            format!("a boolean or option tag is {v}, not 0 or 1")
        }
        DecodeError::Utf8 { .. } => "a string is not valid UTF-8".into(),
        DecodeError::Other(text) => format!("malformed message: {text}"),
        DecodeError::OtherString(text) => format!("malformed message: {text}"),
        _ => "the bytes are not a valid message (PROTOCOL.md §5)".into(),
    }
}

/// The Rust name of an integer type, as PROTOCOL.md writes it.
fn type_name(t: &IntegerType) -> &'static str {
    match t {
        IntegerType::U8 => "u8",
        IntegerType::U16 => "u16",
        IntegerType::U32 => "u32",
        IntegerType::U64 => "u64",
        IntegerType::U128 => "u128",
        IntegerType::Usize => "usize",
        IntegerType::I8 => "i8",
        IntegerType::I16 => "i16",
        IntegerType::I32 => "i32",
        IntegerType::I64 => "i64",
        IntegerType::I128 => "i128",
        IntegerType::Isize => "isize",
        _ => "reserved",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every prefix byte after an `Input` tag, then enough zero bytes for any field.
    fn inputs_with_every_first_byte() -> impl Iterator<Item = Vec<u8>> {
        (0..=255u8).flat_map(|b| (0..12).map(move |len| [vec![1, b], vec![0; len]].concat()))
    }

    #[test]
    fn reasons_are_sentences_not_debug_text() {
        let mut cases: Vec<Vec<u8>> = inputs_with_every_first_byte().collect();
        cases.extend([vec![9], vec![0, 1, 1, 0xff], vec![0, 1, 0, 7], vec![]]);
        for bytes in cases {
            let Err(e) = protocol::decode_client(&bytes, &[]) else {
                continue;
            };
            let (_, reason) = refusal(&e);
            assert!(
                !reason.contains('{') && !reason.contains("Type") && !reason.contains("::"),
                "{bytes:02x?}: {reason}"
            );
        }
    }

    #[test]
    fn an_out_of_range_field_is_named_without_claiming_why() {
        let e = CodecError::OutOfRange {
            field: "seat_token",
        };
        assert_eq!(
            refusal(&e),
            (
                CloseCode::Malformed,
                "seat_token is outside the range PROTOCOL.md gives for it".into()
            )
        );
    }

    #[test]
    fn a_wrong_integer_prefix_names_both_types() {
        // A join whose u16 version starts with the prefix of a u32.
        let bytes = [vec![0u8, 0xfc], vec![0; 8]].concat();
        let e = protocol::decode_client(&bytes, &[]).unwrap_err();
        assert_eq!(
            refusal(&e),
            (
                CloseCode::Malformed,
                "a u16 field starts with the prefix of a longer u32 (see PROTOCOL.md §3)".into()
            )
        );
    }
}
