//! A record's JSON text, as the pagers hand it out: copied out of its page body, so the body's
//! buffer is freed as soon as the page is split.

use std::fmt;

use crate::raw::{Layout, RawObject};
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
            text: crate::surrogates::checked(text).into_boxed_str(),
            scanned: None,
        }
    }

    /// `from_string`, with what taking `text` apart found.
    pub fn scanned(text: String, scanned: Scanned) -> RawRecord {
        RawRecord {
            text: crate::surrogates::checked(text).into_boxed_str(),
            scanned: Some(Box::new(scanned)),
        }
    }

    /// The record's JSON text.
    pub fn get(&self) -> &str {
        &self.text
    }

    /// The record as a JSON value, for the streams that handle records as values one at a time
    /// (a page's records all as values cost ten to twenty times the page). `path` names the
    /// endpoint in the error of a record serde cannot read (nesting too deep, a number too large).
    pub fn value(&self, path: &str) -> crate::error::Result<serde_json::Value> {
        serde_json::from_str(&self.text).map_err(|e| crate::error::Error::Shape {
            url: path.to_string(),
            problem: format!("a record the tap cannot read as JSON: {e}"),
        })
    }

    /// What taking the text apart found while its page was read, once.
    pub fn take_scanned(&mut self) -> Option<Scanned> {
        self.scanned.take().map(|scanned| *scanned)
    }

    /// The record taken apart (its top level), with its text and the date-times to rewrite in
    /// it: from what its page's reading found, or read now. `None` when it is not an object.
    pub fn taken_apart(&mut self) -> Option<(RawObject<'_>, &str, DateSpans)> {
        let text = &*self.text;
        if let Some(scanned) = self.scanned.take()
            && let Some(object) = scanned.layout.apply(text)
        {
            return Some((object, text, scanned.dates));
        }
        let mut dates = DateSpans::new(text);
        let object = RawObject::parse_opening_seeing(text, &[], &mut |s| dates.see(text, s))?;
        Some((object, text, dates))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_comes_apart_the_same_whether_its_page_took_it_apart_or_not() {
        let text = r#"{"id":"7","started":"2024-01-31T13:05:00.000+0000","n":[1]}"#;
        let mut dates = DateSpans::new(text);
        let object =
            RawObject::parse_opening_seeing(text, &[], &mut |s| dates.see(text, s)).unwrap();
        let layout = Layout::of(&object, text).unwrap();
        let mut scanned = RawRecord::scanned(text.to_string(), Scanned { layout, dates });
        let mut plain = RawRecord::from_string(text.to_string());
        let (a, b) = (scanned.taken_apart().unwrap(), plain.taken_apart().unwrap());
        assert_eq!((&a.0, a.1, &a.2), (&b.0, b.1, &b.2));
        assert_ne!(a.2, DateSpans::new(text), "the date-time is kept");
        assert!(scanned.take_scanned().is_none(), "taken once");
        assert!(RawRecord::from_string("[1]".into()).taken_apart().is_none());
    }
}
