//! A record's JSON text, as the pagers hand it out: copied out of its page body, so the body's
//! buffer is freed as soon as the page is split.

use std::fmt;

/// One record's JSON text (valid JSON: it was checked with the whole body).
#[derive(Clone)]
pub struct RawRecord {
    text: Box<str>,
}

impl RawRecord {
    /// A record of `text`, which must be valid JSON, as every record is.
    pub fn from_string(text: String) -> RawRecord {
        RawRecord {
            text: text.into_boxed_str(),
        }
    }

    /// The record's JSON text.
    pub fn get(&self) -> &str {
        &self.text
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
