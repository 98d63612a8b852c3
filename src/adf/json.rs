//! A document's JSON text read into a small tree, its strings (and keys) borrowed from the text
//! unless they have escapes: what the renderer reads, without serde's machinery. It accepts what
//! serde_json reads as a `Value` and nothing else, and reads numbers and escaped strings with it.

use std::borrow::Cow;

use serde_json::Number;

use super::Tree;
use crate::scan::{next_special, skip_ws};

/// A JSON value. Objects are lists: ADF's have a few keys each.
pub enum Json<'a> {
    /// Null or a boolean: the renderer reads neither.
    Other,
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// Containers serde_json reads nested at most (it refuses the 128th).
const MAX_DEPTH: usize = 127;

impl<'a> Json<'a> {
    /// The value `text` holds, or `None` when it is not valid JSON (or nested too deep).
    pub fn parse(text: &'a str) -> Option<Json<'a>> {
        let mut reader = Reader { text, at: 0 };
        reader.skip_ws();
        let value = reader.value(0)?;
        reader.skip_ws();
        (reader.at == text.len()).then_some(value)
    }
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        self.at = skip_ws(self.text.as_bytes(), self.at);
    }

    /// Steps over `byte` after any whitespace, or fails.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The value at the reader, `depth` containers down.
    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Json::String),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number(),
        }
    }

    fn object(&mut self, depth: usize) -> Option<Json<'a>> {
        // ADF's objects have a few keys each: room for them at once.
        let mut entries = Vec::with_capacity(4);
        self.members(depth, b'}', |reader| {
            if reader.peek()? != b'"' {
                return None;
            }
            let key = reader.string()?;
            reader.expect(b':')?;
            reader.skip_ws();
            entries.push((key, reader.value(depth)?));
            Some(())
        })?;
        Some(Json::Object(entries))
    }

    fn array(&mut self, depth: usize) -> Option<Json<'a>> {
        let mut items = Vec::new();
        self.members(depth, b']', |reader| {
            items.push(reader.value(depth)?);
            Some(())
        })?;
        Some(Json::Array(items))
    }

    /// Reads the members of the object or array the reader is at, up to `close`, each with
    /// `member`, which starts at the member.
    fn members(
        &mut self,
        depth: usize,
        close: u8,
        mut member: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.skip_ws();
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            member(self)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.at += 1,
                c if c == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The string at the reader: borrowed when it has no escapes; with them, as serde_json
    /// decodes them (and refuses what it refuses, such as a lone surrogate).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let b = self.text.as_bytes();
        let open = self.at;
        let mut from = open + 1;
        let mut escaped = false;
        let close = loop {
            let found = next_special(b, from)?;
            match b[found] {
                b'"' => break found,
                b'\\' => {
                    escaped = true;
                    from = found + 2;
                }
                _ => return None,
            }
        };
        self.at = close + 1;
        if escaped {
            serde_json::from_str::<String>(self.text.get(open..=close)?)
                .ok()
                .map(Cow::Owned)
        } else {
            self.text.get(open + 1..close).map(Cow::Borrowed)
        }
    }

    fn literal(&mut self, word: &str) -> Option<Json<'a>> {
        let end = self.at + word.len();
        (self.text.get(self.at..end)? == word).then(|| {
            self.at = end;
            Json::Other
        })
    }

    /// A number as serde_json reads it into a `Value`: one out of range (`1e999`) is refused.
    fn number(&mut self) -> Option<Json<'a>> {
        let b = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        while b
            .get(end)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            end += 1;
        }
        let number = serde_json::from_str::<Number>(self.text.get(start..end)?).ok()?;
        self.at = end;
        Some(Json::Number(number))
    }
}

impl Tree for Json<'_> {
    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            // The last of a repeated key, as in a `Value`.
            Json::Object(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|e| &e.1),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Self]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&Number> {
        match self {
            Json::Number(n) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read here exactly when serde_json reads it as a value.
    #[test]
    fn accepts_what_serde_json_accepts() {
        let deep = |levels: usize| "[".repeat(levels) + &"]".repeat(levels);
        for text in [
            "0",
            "-0",
            "1.5e3",
            "01",
            "1.",
            "-",
            "1e999",
            "123456789012345678901234567890",
            "true",
            "tru",
            "null",
            r#""a\"b""#,
            r#""\ud800""#,
            r#""\ud83d\ude04""#,
            "\"a\u{1}b\"",
            "[]",
            "[1,]",
            "{}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":[1,{"b":null}]}"#,
            " [1] ",
            "[1] x",
            "",
            &deep(127),
            &deep(128),
        ] {
            let ours = Json::parse(text).is_some();
            let serde = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(ours, serde, "{text:?}");
        }
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let Some(Json::Object(entries)) = Json::parse(r#"{"a": "plain", "b": "caf\u00e9"}"#) else {
            panic!("not an object");
        };
        assert!(matches!(
            &entries[0].1,
            Json::String(Cow::Borrowed("plain"))
        ));
        assert!(matches!(&entries[1].1, Json::String(Cow::Owned(s)) if s == "café"));
    }
}
