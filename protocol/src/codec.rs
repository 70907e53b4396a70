//! The one bincode configuration and the functions that turn messages into bytes and back.
//!
//! Configuration: bincode 2 `standard()`: little endian, variable-length integers (`u16`..`u64`
//! as varints, signed integers zigzag first), enum variants as a varint index, sequences and
//! strings prefixed by a varint length. Every decode checks the input's length against a limit
//! first, refuses trailing bytes and returns a [`CodecError`]; none panics.

use bincode::config::{self, Configuration, Limit};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::message::{ClientMsg, MAX_TOKEN_LEN, ServerMsg};

/// Largest client message the server accepts, in bytes.
pub const MAX_CLIENT_MSG: usize = 256;

/// Largest server message a client accepts by default, in bytes.
pub const MAX_SERVER_MSG: usize = 4 << 20;

/// The bincode configuration, with a decode allocation limit of `N` bytes.
pub type WireConfig<const N: usize> = Configuration<config::LittleEndian, config::Varint, Limit<N>>;

/// The configuration used for every message, allocating at most `N` bytes while decoding.
pub const fn wire_config<const N: usize>() -> WireConfig<N> {
    config::standard().with_limit::<N>()
}

/// Why bytes could not be turned into a message, or a message into bytes.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The input is longer than the limit for its direction.
    #[error("message of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The bytes are not a valid message (truncated, unknown variant, bad varint, unsorted ids…).
    #[error("malformed message: {0}")]
    Malformed(#[from] bincode::error::DecodeError),
    /// A valid message was followed by more bytes.
    #[error("{extra} trailing bytes after the message")]
    Trailing {
        /// How many bytes were left over.
        extra: usize,
    },
    /// A join named a protocol version other than ours.
    #[error("protocol version {got} is not supported (this server speaks {expected})")]
    VersionMismatch {
        /// The version the client sent.
        got: u16,
        /// The version this crate speaks.
        expected: u16,
    },
    /// A field holds a value outside its documented range.
    #[error("field `{field}` is out of range")]
    OutOfRange {
        /// The field's name.
        field: &'static str,
    },
    /// The message could not be encoded (for example, entity ids that do not ascend).
    #[error("cannot encode message: {0}")]
    Encode(#[from] bincode::error::EncodeError),
}

/// Encodes any message into a fresh buffer.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::with_capacity(64);
    encode_into(msg, &mut buf)?;
    Ok(buf)
}

/// Appends the encoding of `msg` to `buf`, so that a caller can reuse one buffer.
pub fn encode_into<T: Serialize>(msg: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
    bincode::serde::encode_into_std_write(msg, buf, config::standard())?;
    Ok(())
}

/// Decodes one message of type `T` that must fill `bytes` exactly, which are at most `N` long.
pub fn decode<T: DeserializeOwned, const N: usize>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > N {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit: N,
        });
    }
    let (msg, read) = bincode::serde::decode_from_slice(bytes, wire_config::<N>())?;
    if read != bytes.len() {
        return Err(CodecError::Trailing {
            extra: bytes.len() - read,
        });
    }
    Ok(msg)
}

/// Encodes a client message.
pub fn encode_client(msg: &ClientMsg) -> Result<Vec<u8>, CodecError> {
    encode(msg)
}

/// Encodes a server message.
pub fn encode_server(msg: &ServerMsg) -> Result<Vec<u8>, CodecError> {
    encode(msg)
}

/// Decodes a client message (at most [`MAX_CLIENT_MSG`] bytes) and checks the join's version and
/// token lengths.
pub fn decode_client(bytes: &[u8]) -> Result<ClientMsg, CodecError> {
    let msg: ClientMsg = decode::<_, MAX_CLIENT_MSG>(bytes)?;
    if let ClientMsg::Join {
        protocol_version,
        seat_token,
        resume_token,
    } = &msg
    {
        if *protocol_version != crate::PROTOCOL_VERSION {
            return Err(CodecError::VersionMismatch {
                got: *protocol_version,
                expected: crate::PROTOCOL_VERSION,
            });
        }
        if seat_token.len() > MAX_TOKEN_LEN {
            return Err(CodecError::OutOfRange {
                field: "seat_token",
            });
        }
        if resume_token
            .as_ref()
            .is_some_and(|t| t.len() > MAX_TOKEN_LEN)
        {
            return Err(CodecError::OutOfRange {
                field: "resume_token",
            });
        }
    }
    Ok(msg)
}

/// Decodes a server message of at most [`MAX_SERVER_MSG`] bytes.
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg, CodecError> {
    decode::<_, MAX_SERVER_MSG>(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Input;

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        let bytes = vec![0u8; MAX_CLIENT_MSG + 1];
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode_client(&ClientMsg::Leave).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::Trailing { extra: 1 })
        ));
    }

    #[test]
    fn truncated_input_is_malformed() {
        let bytes = encode_client(&ClientMsg::Input(Input {
            seq: 70_000,
            ..Input::default()
        }))
        .unwrap();
        for cut in 0..bytes.len() {
            assert!(
                matches!(decode_client(&bytes[..cut]), Err(CodecError::Malformed(_))),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn longer_varint_forms_are_accepted_as_protocol_md_says() {
        // Input{seq 5} with seq written as `fb 05 00` instead of `05`.
        let bytes = [1u8, 0xfb, 5, 0, 0, 0, 0, 0];
        let Ok(ClientMsg::Input(input)) = decode_client(&bytes) else {
            panic!("a longer varint form is accepted");
        };
        assert_eq!(input.seq, 5);
        // The prefix of a u64 on a u32 is not.
        let bytes = [1u8, 0xfd, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn wrong_version_is_typed() {
        let join = ClientMsg::Join {
            protocol_version: crate::PROTOCOL_VERSION + 1,
            seat_token: "t".into(),
            resume_token: None,
        };
        let bytes = encode_client(&join).unwrap();
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::VersionMismatch { .. })
        ));
    }

    #[test]
    fn huge_claimed_length_does_not_allocate() {
        // Join, version 1, then a string claiming u64::MAX bytes.
        let mut bytes = vec![0u8, 1, 253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_client(&bytes).is_err());
    }
}
