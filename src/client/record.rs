//! A record's JSON text as a slice of the body it came in: a page's records share its body, so
//! reading a page copies nothing, and the body's buffer is reused once its last record is gone.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use super::body::Text;

/// One record's JSON text (valid JSON: it was checked with the whole body).
#[derive(Clone)]
pub struct RawRecord {
    body: Arc<Text>,
    span: Range<usize>,
}

impl RawRecord {
    /// The record at `span` of `body`.
    pub(super) fn within(body: &Arc<Text>, span: Range<usize>) -> RawRecord {
        RawRecord {
            body: Arc::clone(body),
            span,
        }
    }

    /// A record of its own; `text` must be valid JSON, as every record is.
    pub fn from_string(text: String) -> RawRecord {
        let span = 0..text.len();
        RawRecord {
            body: Arc::new(Text::new(text)),
            span,
        }
    }

    /// The body the record is part of, and where.
    pub(super) fn parts(&self) -> (&Arc<Text>, Range<usize>) {
        (&self.body, self.span.clone())
    }

    /// The record's JSON text.
    pub fn get(&self) -> &str {
        self.body.get(self.span.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

/// Read on its own (within a larger value), a record is a copy of its text; the pagers hand out
/// records as slices of their page instead.
impl<'de> serde::Deserialize<'de> for RawRecord {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(de)?;
        Ok(RawRecord::from_string(raw.get().to_string()))
    }
}
