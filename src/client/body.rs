//! Reading a response body within `max_response_mb`: a declared length above the limit is refused
//! before reading, and the body is taken chunk by chunk, so an endless or huge answer costs at
//! most the limit in memory. A page body can be split into records as it arrives
//! (`PageReader`), so it is never held whole.

use bytes::{Bytes, BytesMut};

use super::page_reader::PageReader;

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

/// The whole body.
pub async fn read_limited(response: reqwest::Response, limit: u64) -> Result<Bytes, BodyError> {
    let reserve = response.content_length().unwrap_or(0).min(FIRST_RESERVE);
    let mut body = BytesMut::with_capacity(usize::try_from(reserve).unwrap_or(0));
    read_chunks(response, limit, |chunk| body.extend_from_slice(chunk)).await?;
    Ok(body.freeze())
}

/// The body given to `reader` as it arrives.
pub async fn read_split(
    response: reqwest::Response,
    limit: u64,
    mut reader: PageReader,
) -> Result<PageReader, BodyError> {
    reader.expect_length(response.content_length());
    read_chunks(response, limit, |chunk| reader.push(chunk)).await?;
    Ok(reader)
}

/// Hands each chunk of the body to `take`, refusing a body over `limit` bytes.
async fn read_chunks(
    mut response: reqwest::Response,
    limit: u64,
    mut take: impl FnMut(&[u8]),
) -> Result<(), BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut read = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len() as u64;
                if read > limit {
                    return Err(BodyError::TooLarge);
                }
                take(&chunk);
            }
            Ok(None) => return Ok(()),
            Err(e) if e.is_timeout() => return Err(BodyError::Timeout),
            Err(e) => return Err(BodyError::Broken(super::error_chain(&e.without_url()))),
        }
    }
}
