//! Reading a response body within `max_response_mb`: a declared length above the limit is refused
//! before reading, and the body is taken chunk by chunk, so an endless or huge answer costs at
//! most the limit in memory.
//!
//! Bodies are read into buffers that go back to a small pool when the last record of their page
//! is gone. A search page is megabytes; a fresh buffer for each made the allocator map, fault in
//! and give back that memory page after page, which cost the kernel more than copying the bytes.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

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

/// Spare body buffers, kept for the next bodies.
#[derive(Default)]
pub struct Buffers {
    spare: Mutex<Vec<Vec<u8>>>,
}

impl Buffers {
    /// Buffers kept at most. One saves most of the kernel's work (at 10,000 issues, 9% of the
    /// tap's CPU against none kept); each more costs a page's memory for a little more (a second
    /// saved 4% more CPU but added 6 MiB to the peak, which came near 64 MiB).
    const KEEP: usize = 1;
    /// A buffer larger than this (an unusually large answer) is not kept.
    const LARGEST: usize = 16 << 20;

    /// The largest spare buffer: any body may be a search page of megabytes.
    fn take(self: &Arc<Self>) -> Body {
        let bytes = self
            .spare
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default();
        Body {
            bytes,
            home: Some(Arc::clone(self)),
        }
    }

    fn give_back(&self, mut bytes: Vec<u8>) {
        if bytes.capacity() > Self::LARGEST {
            return;
        }
        let Ok(mut spare) = self.spare.lock() else {
            return;
        };
        // Kept sorted by capacity, largest last: a full pool swaps its smallest for a larger one.
        if spare.len() >= Self::KEEP {
            match spare.first() {
                Some(smallest) if smallest.capacity() < bytes.capacity() => {
                    spare.remove(0);
                }
                _ => return,
            }
        }
        bytes.clear();
        let at = spare.partition_point(|kept| kept.capacity() <= bytes.capacity());
        spare.insert(at, bytes);
    }
}

/// A whole body; its buffer goes back to the pool it came from when dropped.
#[derive(Default)]
pub struct Body {
    bytes: Vec<u8>,
    home: Option<Arc<Buffers>>,
}

impl Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            home.give_back(std::mem::take(&mut self.bytes));
        }
    }
}

impl Body {
    /// The body as text, checked to be UTF-8 once for all the records that are slices of it.
    pub fn into_text(mut self) -> Result<Text, std::string::FromUtf8Error> {
        let home = self.home.take();
        let text = String::from_utf8(std::mem::take(&mut self.bytes))?;
        Ok(Text { text, home })
    }
}

/// A whole body known to be UTF-8; its buffer goes back to its pool when dropped.
#[derive(Default)]
pub struct Text {
    text: String,
    home: Option<Arc<Buffers>>,
}

impl Text {
    /// Text that came from no pool (a record built in place, a test).
    pub fn new(text: String) -> Text {
        Text { text, home: None }
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl Drop for Text {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            home.give_back(std::mem::take(&mut self.text).into_bytes());
        }
    }
}

/// Reads `response`'s body whole, into a buffer from `buffers` (or a fresh one when `None`).
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: u64,
    buffers: Option<&Arc<Buffers>>,
) -> Result<Body, BodyError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = buffers.map(Buffers::take).unwrap_or_default();
    let reserve = declared.unwrap_or(0).min(FIRST_RESERVE);
    body.bytes.reserve(usize::try_from(reserve).unwrap_or(0));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(BodyError::TooLarge);
                }
                body.bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(BodyError::Timeout),
            Err(e) => return Err(BodyError::Broken(super::error_chain(&e.without_url()))),
        }
    }
}
