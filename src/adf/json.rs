//! A document's JSON text read into a flat list of slots that point back into the text: what the
//! renderer reads, without serde's machinery and without an allocation per container. The
//! members of an array or object sit side by side in the list, so a container is a range of
//! slots. The lists are `Buffers`, kept from document to document. It accepts what serde_json
//! reads as a `Value` and nothing else, reads numbers with it and decodes strings as it does.

use std::ops::Range;

use serde_json::Number;

use super::Tree;
use crate::scan::{next_special, skip_ws};

/// One JSON value. Spans are byte ranges of the text, or of `Buffers::decoded` for a string
/// with escapes; containers are ranges of `Buffers::slots`, an object's as key, value, key, ….
/// Offsets are `u32`: a slot is 12 bytes, half the size `usize`s made it.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Null or a boolean: the renderer reads neither.
    Other,
    Number {
        start: u32,
        end: u32,
    },
    Text {
        start: u32,
        end: u32,
    },
    Decoded {
        start: u32,
        end: u32,
    },
    Array {
        first: u32,
        len: u32,
    },
    Object {
        first: u32,
        members: u32,
    },
}

/// An offset as a slot keeps it; `None` past 4 GiB, where the document is not read.
#[inline]
fn offset(at: usize) -> Option<u32> {
    u32::try_from(at).ok()
}

/// The range from `start` to `end` in a slot, as indices.
#[inline]
fn range(start: u32, end: u32) -> Range<usize> {
    start as usize..end as usize
}

/// Containers serde_json reads nested at most (it refuses the 128th).
const MAX_DEPTH: usize = 127;

/// Slots kept for the next document at most: a huge document's are let go.
const MAX_KEPT: usize = 1 << 16;

/// Where documents are read into; reused, so that reading one allocates nothing once the
/// buffers have grown to fit.
#[derive(Default)]
pub struct Buffers {
    slots: Vec<Slot>,
    /// A container's members while it is read, before they move to `slots` side by side.
    pending: Vec<Slot>,
    /// Strings with escapes, decoded.
    decoded: String,
}

impl Buffers {
    /// The value `text` holds, or `None` when it is not valid JSON (or nested too deep).
    pub fn read<'t>(&'t mut self, text: &'t str) -> Option<Doc<'t>> {
        self.slots.clear();
        self.pending.clear();
        self.decoded.clear();
        let mut reader = Reader {
            text,
            at: 0,
            buffers: self,
        };
        reader.skip_ws();
        reader.value(0)?;
        reader.skip_ws();
        if reader.at != text.len() {
            return None;
        }
        let root = self.pending.pop()?;
        self.slots.push(root);
        Some(Doc {
            text,
            decoded: &self.decoded,
            slots: &self.slots,
        })
    }

    /// Whether the buffers are worth keeping for the next document.
    pub fn small(&self) -> bool {
        self.slots.capacity().max(self.pending.capacity()) <= MAX_KEPT
            && self.decoded.capacity() <= MAX_KEPT
    }
}

/// A document read: its slots, the root last, and what they point into.
pub struct Doc<'t> {
    text: &'t str,
    decoded: &'t str,
    slots: &'t [Slot],
}

impl<'t> Doc<'t> {
    pub fn root(&self) -> Json<'_> {
        Json {
            doc: self,
            at: self.slots.len().saturating_sub(1),
        }
    }

    #[inline]
    fn slot(&self, at: usize) -> Slot {
        self.slots.get(at).copied().unwrap_or(Slot::Other)
    }

    #[inline]
    /// Whether `slot` is the string `key`; most keys differ from it in length, checked first.
    fn is(&self, slot: Slot, key: &str) -> bool {
        let (from, start, end) = match slot {
            Slot::Text { start, end } => (self.text, start, end),
            Slot::Decoded { start, end } => (self.decoded, start, end),
            _ => return false,
        };
        end.wrapping_sub(start) as usize == key.len()
            && from.as_bytes().get(range(start, end)) == Some(key.as_bytes())
    }

    #[inline]
    fn str(&self, slot: Slot) -> Option<&'t str> {
        match slot {
            Slot::Text { start, end } => self.text.get(range(start, end)),
            Slot::Decoded { start, end } => self.decoded.get(range(start, end)),
            _ => None,
        }
    }
}

/// A value of a document read: where it is among the slots.
#[derive(Clone, Copy)]
pub struct Json<'t> {
    doc: &'t Doc<'t>,
    at: usize,
}

/// The items of an array, in order.
#[derive(Clone)]
pub struct Items<'t> {
    doc: &'t Doc<'t>,
    range: Range<usize>,
}

impl<'t> Iterator for Items<'t> {
    type Item = Json<'t>;

    fn next(&mut self) -> Option<Json<'t>> {
        let at = self.range.next()?;
        Some(Json { doc: self.doc, at })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for Items<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let at = self.range.next_back()?;
        Some(Json { doc: self.doc, at })
    }
}

impl<'t> Tree<'t> for Json<'t> {
    type Items = Items<'t>;

    #[inline]
    fn get(self, key: &str) -> Option<Json<'t>> {
        let Slot::Object { first, members } = self.doc.slot(self.at) else {
            return None;
        };
        let (first, members) = (first as usize, members as usize);
        let entries = self.doc.slots.get(first..first + 2 * members)?;
        // The last of a repeated key, as in a `Value`.
        let found = entries
            .chunks_exact(2)
            .rposition(|entry| entry.first().is_some_and(|&k| self.doc.is(k, key)))?;
        Some(Json {
            doc: self.doc,
            at: first + 2 * found + 1,
        })
    }

    #[inline]
    fn as_str(self) -> Option<&'t str> {
        self.doc.str(self.doc.slot(self.at))
    }

    #[inline]
    fn as_array(self) -> Option<Items<'t>> {
        match self.doc.slot(self.at) {
            Slot::Array { first, len } => Some(Items {
                doc: self.doc,
                range: first as usize..first as usize + len as usize,
            }),
            _ => None,
        }
    }

    fn as_number(self) -> Option<Number> {
        match self.doc.slot(self.at) {
            Slot::Number { start, end } => {
                serde_json::from_str(self.doc.text.get(range(start, end))?).ok()
            }
            _ => None,
        }
    }
}

struct Reader<'t, 'b> {
    text: &'t str,
    at: usize,
    buffers: &'b mut Buffers,
}

impl Reader<'_, '_> {
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

    /// Reads the value at the reader, `depth` containers down, onto the pending slots. Each
    /// reading pushes its slot rather than return it: returned, a slot went through memory and
    /// was read back wider than it was written, a stall at every value.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number(),
        }
    }

    /// Adds a value read to the pending slots.
    fn push(&mut self, slot: Slot) -> Option<()> {
        self.buffers.pending.push(slot);
        Some(())
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        let mark = self.buffers.pending.len();
        self.members(depth, b'}', |reader| {
            if reader.peek()? != b'"' {
                return None;
            }
            reader.string()?;
            reader.expect(b':')?;
            reader.skip_ws();
            reader.value(depth)
        })?;
        let (first, len) = self.settle(mark)?;
        self.push(Slot::Object {
            first,
            members: len / 2,
        })
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        let mark = self.buffers.pending.len();
        self.members(depth, b']', |reader| reader.value(depth))?;
        let (first, len) = self.settle(mark)?;
        self.push(Slot::Array { first, len })
    }

    /// Moves the members read since `mark` to the slots, side by side: where they start there,
    /// and how many.
    fn settle(&mut self, mark: usize) -> Option<(u32, u32)> {
        let Buffers { slots, pending, .. } = &mut *self.buffers;
        let first = slots.len();
        slots.extend_from_slice(pending.get(mark..).unwrap_or(&[]));
        pending.truncate(mark);
        Some((offset(first)?, offset(slots.len() - first)?))
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

    /// The string at the reader: a span of the text when it has no escapes; with them, decoded
    /// into the buffers.
    fn string(&mut self) -> Option<()> {
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
        if !escaped {
            return self.push(Slot::Text {
                start: offset(open + 1)?,
                end: offset(close)?,
            });
        }
        let buffer = &mut self.buffers.decoded;
        let start = buffer.len();
        unescape_into(buffer, self.text.get(open + 1..close)?)?;
        let slot = Slot::Decoded {
            start: offset(start)?,
            end: offset(buffer.len())?,
        };
        self.push(slot)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        if self.text.get(self.at..end)? != word {
            return None;
        }
        self.at = end;
        self.push(Slot::Other)
    }

    /// A number as serde_json reads it into a `Value`: one out of range (`1e999`) is refused.
    fn number(&mut self) -> Option<()> {
        let b = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        while b
            .get(end)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            end += 1;
        }
        serde_json::from_str::<Number>(self.text.get(start..end)?).ok()?;
        self.at = end;
        self.push(Slot::Number {
            start: offset(start)?,
            end: offset(end)?,
        })
    }
}

/// Appends the content of a JSON string, `s`, to `out`, its escapes decoded as serde_json
/// decodes them; None where it refuses them, as for an unknown escape or a lone surrogate.
fn unescape_into(out: &mut String, s: &str) -> Option<()> {
    let mut rest = s;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(rest.get(..at)?);
        let escape = *rest.as_bytes().get(at + 1)?;
        rest = rest.get(at + 2..)?;
        let c = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let (c, after) = unicode_escape(rest)?;
                rest = after;
                c
            }
            _ => return None,
        };
        out.push(c);
    }
    out.push_str(rest);
    Some(())
}

/// The character of a `\u` escape, `rest` being what follows the `\u`, and what follows the
/// escape: a surrogate pair, as two escapes, is one character; a lone surrogate is refused.
fn unicode_escape(rest: &str) -> Option<(char, &str)> {
    let first = hex4(rest)?;
    let rest = rest.get(4..)?;
    match first {
        0xDC00..=0xDFFF => None,
        0xD800..=0xDBFF => {
            let rest = rest.strip_prefix("\\u")?;
            let second = hex4(rest)?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return None;
            }
            let c = char::from_u32(0x1_0000 + ((first - 0xD800) << 10 | (second - 0xDC00)))?;
            Some((c, rest.get(4..)?))
        }
        n => Some((char::from_u32(n)?, rest)),
    }
}

/// The number four hex digits at the start of `s` write.
fn hex4(s: &str) -> Option<u32> {
    let digits = s.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read here exactly when serde_json reads it as a value.
    #[test]
    fn accepts_what_serde_json_accepts() {
        let deep = |levels: usize| "[".repeat(levels) + &"]".repeat(levels);
        let mut buffers = Buffers::default();
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
            r#""\ud83d\u0041""#,
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ude04""#,
            r#""\u00e9\u00E9\/\b\f\n\r\t""#,
            r#""\u+0e9""#,
            r#""\u00e""#,
            r#""\x""#,
            r#""\é""#,
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
            let ours = buffers.read(text).is_some();
            let serde = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(ours, serde, "{text:?}");
        }
    }

    #[test]
    fn escapes_decode_as_serde_json_decodes_them() {
        let mut buffers = Buffers::default();
        for text in [
            r#""a\"b\\c\/d""#,
            r#""\b\f\n\r\t""#,
            r#""caf\u00e9 \u00E9 \u0000 \uFFFF""#,
            r#""\ud83d\ude04 and \uD83D\uDE04""#,
            r#""é \n ü""#,
        ] {
            let doc = buffers.read(text).expect("valid JSON");
            let serde: String = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(doc.root().as_str(), Some(serde.as_str()), "{text}");
        }
    }

    #[test]
    fn values_read_back() {
        let mut buffers = Buffers::default();
        let text = r#"{"a": "plain", "b": "caf\u00e9", "b": ["x", 2, {"c": null}], "d": 1.5}"#;
        let doc = buffers.read(text).expect("valid JSON");
        let root = doc.root();
        assert_eq!(root.get("a").and_then(Tree::as_str), Some("plain"));
        let items: Vec<_> = root
            .get("b")
            .and_then(Tree::as_array)
            .expect("an array")
            .collect();
        assert_eq!(items.len(), 3, "the last of a repeated key");
        assert_eq!(items[0].as_str(), Some("x"));
        assert_eq!(items[1].as_number(), Some(Number::from(2)));
        assert!(items[2].get("c").is_some_and(|c| c.as_str().is_none()));
        assert_eq!(
            root.get("d")
                .and_then(Tree::as_number)
                .and_then(|n| n.as_f64()),
            Some(1.5)
        );
        assert!(root.get("e").is_none());
        let text = r#"["caf\u00e9", "\"q\""]"#;
        let doc = buffers.read(text).expect("valid JSON");
        let items: Vec<_> = doc
            .root()
            .as_array()
            .expect("an array")
            .filter_map(Tree::as_str)
            .collect();
        assert_eq!(items, ["café", "\"q\""]);
    }
}
