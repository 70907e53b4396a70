//! The functions that turn messages into bytes and back.
//!
//! Every message starts with its tag byte ([`crate::message::tag`]). The payloads of `Join`,
//! `Ping`, `Welcome`, `Schema`, `Pong` and `Disconnect` are bincode 2 `standard()`: little
//! endian, variable-length integers (`u16`..`u64` as varints, signed integers zigzag first),
//! enum variants as a varint index, sequences and strings prefixed by a varint length. `Input`
//! and the frames are written by hand with the same primitives ([`crate::cursor`]). Every decode
//! checks the input's length against a limit first, refuses trailing bytes and returns a
//! [`CodecError`]; none panics.

use bincode::config::{self, Configuration, Limit};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::close::CloseCode;
use crate::cursor::{Cursor, Malformed, put_varint};
use crate::message::{ClientMsg, Input, InputFields, MAX_TOKEN_LEN, ServerMsg, tag};
use crate::schema::FieldDef;

/// Largest client message the server accepts, in bytes.
pub const MAX_CLIENT_MSG: usize = 256;

/// Largest server message a client accepts by default, in bytes.
pub const MAX_SERVER_MSG: usize = 4 << 20;

/// The bincode configuration, with a decode allocation limit of `N` bytes.
pub type WireConfig<const N: usize> = Configuration<config::LittleEndian, config::Varint, Limit<N>>;

/// The configuration used for every payload, allocating at most `N` bytes while decoding.
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
    /// The bytes are not a valid message (truncated, unknown tag, bad varint…).
    #[error("malformed message: {0}")]
    Malformed(#[from] bincode::error::DecodeError),
    /// The bytes break a rule of the hand-written encodings.
    #[error("malformed message: {0}")]
    Invalid(#[from] Malformed),
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
    /// A snapshot or delta, which [`crate::world::WorldView::apply`] reads.
    #[error("a frame is applied to a world mirror, not decoded as a message")]
    Frame,
    /// The message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(#[from] bincode::error::EncodeError),
}

/// Appends the bincode encoding of `payload` to `buf`.
fn put_payload<T: Serialize>(payload: &T, buf: &mut Vec<u8>) -> Result<(), CodecError> {
    bincode::serde::encode_into_std_write(payload, buf, config::standard())?;
    Ok(())
}

/// Decodes a bincode payload of type `T` that must fill `bytes` exactly, allocating at most `N`
/// bytes.
fn payload<T: DeserializeOwned, const N: usize>(bytes: &[u8]) -> Result<T, CodecError> {
    let (msg, read) = bincode::serde::decode_from_slice(bytes, wire_config::<N>())?;
    if read != bytes.len() {
        return Err(CodecError::Trailing {
            extra: bytes.len() - read,
        });
    }
    Ok(msg)
}

fn check_len(bytes: &[u8], limit: usize) -> Result<(), CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    Ok(())
}

/// Encodes a client message.
pub fn encode_client(msg: &ClientMsg) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::with_capacity(16);
    match msg {
        ClientMsg::Join {
            protocol_version,
            seat_token,
            resume_token,
        } => {
            buf.push(tag::JOIN);
            put_payload(&(protocol_version, seat_token, resume_token), &mut buf)?;
        }
        ClientMsg::Input(input) => {
            buf.push(tag::INPUT);
            put_varint(&mut buf, u64::from(input.seq));
            put_varint(&mut buf, u64::from(input.client_tick));
            buf.extend_from_slice(&input.fields);
        }
        ClientMsg::Ping { client_time_us } => {
            buf.push(tag::PING);
            put_payload(client_time_us, &mut buf)?;
        }
        ClientMsg::Leave => buf.push(tag::LEAVE),
    }
    Ok(buf)
}

/// Decodes a client message (at most [`MAX_CLIENT_MSG`] bytes): checks the join's version and
/// token lengths, and an input's fields against `input`, the schema's input fields (empty before
/// the join).
pub fn decode_client(bytes: &[u8], input: &[FieldDef]) -> Result<ClientMsg, CodecError> {
    check_len(bytes, MAX_CLIENT_MSG)?;
    let (&first, rest) = bytes.split_first().ok_or(Malformed("empty message"))?;
    match first {
        tag::JOIN => decode_join(rest),
        tag::INPUT => Ok(ClientMsg::Input(decode_input(rest, input)?)),
        tag::PING => Ok(ClientMsg::Ping {
            client_time_us: payload::<_, MAX_CLIENT_MSG>(rest)?,
        }),
        tag::LEAVE if rest.is_empty() => Ok(ClientMsg::Leave),
        tag::LEAVE => Err(CodecError::Trailing { extra: rest.len() }),
        _ => Err(Malformed("unknown message tag").into()),
    }
}

fn decode_join(rest: &[u8]) -> Result<ClientMsg, CodecError> {
    let (protocol_version, seat_token, resume_token): (u16, String, Option<String>) =
        payload::<_, MAX_CLIENT_MSG>(rest)?;
    if protocol_version != crate::PROTOCOL_VERSION {
        return Err(CodecError::VersionMismatch {
            got: protocol_version,
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
    Ok(ClientMsg::Join {
        protocol_version,
        seat_token,
        resume_token,
    })
}

fn decode_input(rest: &[u8], fields: &[FieldDef]) -> Result<Input, CodecError> {
    let mut c = Cursor::new(rest);
    let seq = c.u32()?;
    let client_tick = c.u32()?;
    let start = c.position();
    for f in fields {
        f.ty.read(&mut c)?;
    }
    if c.remaining() > 0 {
        return Err(CodecError::Trailing {
            extra: c.remaining(),
        });
    }
    Ok(Input {
        seq,
        client_tick,
        fields: InputFields::from_slice(&rest[start..]),
    })
}

/// Encodes a server message other than a frame.
pub fn encode_server(msg: &ServerMsg) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::with_capacity(64);
    match msg {
        ServerMsg::Welcome(w) => {
            buf.push(tag::WELCOME);
            put_payload(w, &mut buf)?;
        }
        ServerMsg::Schema(s) => {
            buf.push(tag::SCHEMA);
            put_payload(s, &mut buf)?;
        }
        ServerMsg::Pong {
            client_time_us,
            server_time_us,
        } => {
            buf.push(tag::PONG);
            put_payload(&(client_time_us, server_time_us), &mut buf)?;
        }
        ServerMsg::Disconnect { code, reason } => {
            buf.push(tag::DISCONNECT);
            put_payload(&(code, reason), &mut buf)?;
        }
    }
    Ok(buf)
}

/// Decodes a server message other than a frame, of at most [`MAX_SERVER_MSG`] bytes; a frame
/// is [`CodecError::Frame`].
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg, CodecError> {
    check_len(bytes, MAX_SERVER_MSG)?;
    let (&first, rest) = bytes.split_first().ok_or(Malformed("empty message"))?;
    const N: usize = MAX_SERVER_MSG;
    Ok(match first {
        tag::WELCOME => ServerMsg::Welcome(payload::<_, N>(rest)?),
        tag::SCHEMA => ServerMsg::Schema(payload::<_, N>(rest)?),
        tag::SNAPSHOT | tag::DELTA => return Err(CodecError::Frame),
        tag::PONG => {
            let (client_time_us, server_time_us) = payload::<_, N>(rest)?;
            ServerMsg::Pong {
                client_time_us,
                server_time_us,
            }
        }
        tag::DISCONNECT => {
            let (code, reason): (CloseCode, String) = payload::<_, N>(rest)?;
            ServerMsg::Disconnect { code, reason }
        }
        _ => return Err(Malformed("unknown message tag").into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireType;

    fn movement_input() -> Vec<FieldDef> {
        ["move_x", "move_y"]
            .map(|n| FieldDef {
                name: n.into(),
                ty: WireType::I8,
            })
            .into_iter()
            .chain([FieldDef {
                name: "buttons".into(),
                ty: WireType::U8,
            }])
            .collect()
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        let bytes = vec![0u8; MAX_CLIENT_MSG + 1];
        assert!(matches!(
            decode_client(&bytes, &[]),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode_client(&ClientMsg::Leave).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode_client(&bytes, &[]),
            Err(CodecError::Trailing { extra: 1 })
        ));
    }

    #[test]
    fn an_input_is_checked_against_the_schema() {
        let input = Input {
            seq: 70_000,
            client_tick: 1,
            fields: InputFields::from_slice(&[0x81, 0x40, 1]),
        };
        let bytes = encode_client(&ClientMsg::Input(input.clone())).unwrap();
        let layout = movement_input();
        assert_eq!(
            decode_client(&bytes, &layout).unwrap(),
            ClientMsg::Input(input)
        );
        for cut in 0..bytes.len() {
            assert!(
                decode_client(&bytes[..cut], &layout).is_err(),
                "cut at {cut}"
            );
        }
        assert!(
            decode_client(&bytes, &layout[..2]).is_err(),
            "an extra field is trailing"
        );
    }

    #[test]
    fn longer_varint_forms_are_accepted_as_protocol_md_says() {
        // Input{seq 5} with seq written as `fb 05 00` instead of `05`.
        let bytes = [1u8, 0xfb, 5, 0, 0, 0, 0, 0];
        let Ok(ClientMsg::Input(input)) = decode_client(&bytes, &movement_input()) else {
            panic!("a longer varint form is accepted");
        };
        assert_eq!(input.seq, 5);
        // The prefix of a u64 on a u32 is not.
        let bytes = [1u8, 0xfd, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(decode_client(&bytes, &movement_input()).is_err());
    }

    #[test]
    fn wrong_version_is_typed() {
        for version in [1, crate::PROTOCOL_VERSION + 1] {
            let join = ClientMsg::Join {
                protocol_version: version,
                seat_token: "t".into(),
                resume_token: None,
            };
            let bytes = encode_client(&join).unwrap();
            assert!(matches!(
                decode_client(&bytes, &[]),
                Err(CodecError::VersionMismatch { .. })
            ));
        }
    }

    #[test]
    fn huge_claimed_length_does_not_allocate() {
        // Join, version 2, then a string claiming u64::MAX bytes.
        let mut bytes = vec![0u8, 2, 253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_client(&bytes, &[]).is_err());
    }
}
