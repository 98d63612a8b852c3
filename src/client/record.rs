//! A record's JSON text, as the pagers hand it out: copied out of its page body, so the body's
//! buffer is freed as soon as the page is split.

use std::fmt;

use crate::raw::Layout;
use crate::timestamp::DateSpans;

/// One record's JSON text (valid JSON: it was checked with the whole body).
#[derive(Clone)]
pub struct RawRecord {
    text: Box<str>,
    /// The record taken apart while its page was checked, when the page was asked for that.
    scanned: Option<Box<Scanned>>,
}

/// A record's text taken apart (`RawObject::parse_opening_seeing`), kept apart from the text:
/// where its parts lie, and the date-times to rewrite in it.
#[derive(Debug, Clone)]
pub struct Scanned {
    pub layout: Layout,
    pub dates: DateSpans,
}

impl RawRecord {
    /// A record of `text`, which must be valid JSON, as every record is.
    pub fn from_string(text: String) -> RawRecord {
        RawRecord {
            text: text.into_boxed_str(),
            scanned: None,
        }
    }

    /// `from_string`, with what taking `text` apart found.
    pub fn scanned(text: String, scanned: Scanned) -> RawRecord {
        RawRecord {
            text: text.into_boxed_str(),
            scanned: Some(Box::new(scanned)),
        }
    }

    /// The record's JSON text.
    pub fn get(&self) -> &str {
        &self.text
    }

    /// What taking the text apart found while its page was read, once.
    pub fn take_scanned(&mut self) -> Option<Scanned> {
        self.scanned.take().map(|scanned| *scanned)
    }
}

impl fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

/// Read within a larger value, a record is its text.
impl<'de> serde::Deserialize<'de> for RawRecord {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(de)?;
        Ok(RawRecord::from_string(raw.get().to_string()))
    }
}
