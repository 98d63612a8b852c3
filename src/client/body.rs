//! Reading a response body within `max_response_mb`: a declared length above the limit is refused
//! before reading, and the body is taken chunk by chunk, so an endless or huge answer costs at
//! most the limit in memory.

use bytes::{Bytes, BytesMut};

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    /// Declared or found larger than the limit.
    TooLarge,
    Timeout,
    Broken(String),
}

/// Largest buffer reserved up front from a declared length: the rest grows as bytes arrive.
const FIRST_RESERVE: u64 = 1 << 20;

pub async fn read_limited(mut response: reqwest::Response, limit: u64) -> Result<Bytes, BodyError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let reserve = declared.unwrap_or(0).min(FIRST_RESERVE);
    let mut body = BytesMut::with_capacity(usize::try_from(reserve).unwrap_or(0));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Err(e) if e.is_timeout() => return Err(BodyError::Timeout),
            Err(e) => return Err(BodyError::Broken(super::error_chain(&e.without_url()))),
        }
    }
}
