//! A page body checked as JSON and split into its records in one pass, faster than serde_json
//! reads it (strings are skipped with `scan`).
//!
//! It accepts only what serde_json accepts; anything unusual (a key with escapes, a body that is
//! not an object or a list) is left to serde_json, by answering `None`, and so is every error,
//! so that messages and edge cases stay serde_json's.

use std::ops::Range;

use serde_json::{Map, Value};

use super::known::Known;
use crate::raw::{Mark, Opening, SEEN_MIN_LEN, Span, StringValue, marks_since, span};
use crate::scan::{next_special, skip_ws};

/// A page body taken apart: the top level's other keys (raw JSON values), and the records.
#[derive(Debug, PartialEq)]
pub struct Split {
    /// Keys (as written, without quotes) and the spans of their values, in order.
    pub rest: Vec<(Range<usize>, Range<usize>)>,
    pub items: Items,
}

/// What sits where the records are looked for (see `pages::List`).
#[derive(Debug, PartialEq)]
pub enum Items {
    List(Vec<Range<usize>>),
    Absent,
    NotAList,
}

/// The top level's other keys (spans of `text`, as `Split::rest` has them) as an object of
/// values; `None` when a span is not in `text` or serde_json refuses a value (a number out of
/// its range), for the caller to leave the body to serde_json.
pub(super) fn rest_value(text: &str, rest: &[(Range<usize>, Range<usize>)]) -> Option<Value> {
    let mut values = Map::new();
    for (key, value) in rest {
        let value = serde_json::from_str(text.get(value.clone())?).ok()?;
        values.insert(text.get(key.clone())?.to_string(), value);
    }
    Some(Value::Object(values))
}

/// Deepest nesting checked here, from the body's top; deeper bodies are left to serde_json,
/// which refuses 128 levels.
pub(super) const MAX_DEPTH: usize = 100;

/// Splits `text` as `pages::read_body` does: the records under `path` (keys going down from the
/// top; empty for a body that is the list), or `None` when serde_json should read it instead.
pub fn split(text: &str, path: &[&str]) -> Option<Split> {
    let b = text.as_bytes();
    let start = skip_ws(b, 0);
    let (split, end) = if path.is_empty() {
        if b.get(start) != Some(&b'[') {
            return None;
        }
        let (items, end) = list(b, start, 1)?;
        (
            Split {
                rest: Vec::new(),
                items: Items::List(items),
            },
            end,
        )
    } else {
        if b.get(start) != Some(&b'{') {
            return None;
        }
        let mut split = Split {
            rest: Vec::new(),
            items: Items::Absent,
        };
        let end = object(b, start, path, Some(&mut split.rest), &mut split.items, 1)?;
        (split, end)
    };
    (skip_ws(b, end) == b.len()).then_some(split)
}

/// Walks the object at `at`, `depth` levels down, looking for `path`; the other keys go to
/// `rest` when it is given (the top level). Returns the index past the object.
fn object(
    b: &[u8],
    at: usize,
    path: &[&str],
    mut rest: Option<&mut Vec<(Range<usize>, Range<usize>)>>,
    items: &mut Items,
    depth: usize,
) -> Option<usize> {
    let mut i = skip_ws(b, at + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string(b, i)?;
        let key = i + 1..key_end - 1;
        // A key with escapes is compared decoded by serde_json: leave it to it.
        if b[key.clone()].contains(&b'\\') {
            return None;
        }
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value = skip_ws(b, i + 1);
        let matches = path
            .first()
            .is_some_and(|p| p.as_bytes() == &b[key.clone()]);
        let value_end = match (matches, path) {
            (true, [_]) => match b.get(value)? {
                b'[' => {
                    let (list, end) = list(b, value, depth + 1)?;
                    *items = Items::List(list);
                    end
                }
                b'n' => {
                    *items = Items::Absent;
                    literal(b, value, b"null")?
                }
                _ => {
                    *items = Items::NotAList;
                    value_end(b, value, depth)?
                }
            },
            (true, [_, deeper @ ..]) => {
                // As serde_json reads it, the last such key decides, found there or not.
                *items = Items::Absent;
                if b.get(value) == Some(&b'{') {
                    object(b, value, deeper, None, items, depth + 1)?
                } else {
                    // Below the top, a level that is not an object holds no records.
                    value_end(b, value, depth)?
                }
            }
            _ => {
                let end = value_end(b, value, depth)?;
                if let Some(rest) = rest.as_deref_mut() {
                    rest.push((key, value..end));
                }
                end
            }
        };
        i = skip_ws(b, value_end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The spans of the elements of the list at `at` (`depth` levels down, itself included), and the
/// index past it.
fn list(b: &[u8], at: usize, depth: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let mut spans = Vec::new();
    let mut i = skip_ws(b, at + 1);
    if b.get(i) == Some(&b']') {
        return Some((spans, i + 1));
    }
    loop {
        let end = value_end(b, i, depth)?;
        spans.push(i..end);
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b']' => return Some((spans, i + 1)),
            _ => return None,
        }
    }
}

/// The index past the valid JSON value that starts at `at`, checked whole, inside `depth`
/// levels.
pub(super) fn value_end(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    value_end_seeing(b, at, depth, &mut |_| {})
}

/// `value_end`, showing `seen` the string values (not keys) within long enough to be a
/// date-time, in text order.
#[inline(always)]
pub(super) fn value_end_seeing(
    b: &[u8],
    at: usize,
    depth: usize,
    seen: &mut impl FnMut(StringValue),
) -> Option<usize> {
    match b.get(at)? {
        b'{' | b'[' => Some(nested_end(b, at, depth, seen)?.0),
        _ => value_end_flat(b, at, seen),
    }
}

/// The index past the object or list at `at`, checked with a stack instead of recursion, and
/// the most levels that were open in it at once.
pub(super) fn nested_end(
    b: &[u8],
    at: usize,
    depth: usize,
    seen: &mut impl FnMut(StringValue),
) -> Option<(usize, usize)> {
    // What each open level is: an object or a list (no allocation per value).
    let mut open = Levels::default();
    let mut levels = 0;
    let mut i = at;
    loop {
        // `i` is at a value.
        match b.get(i)? {
            b'{' | b'[' => {
                let object = b[i] == b'{';
                if depth + open.len() >= MAX_DEPTH {
                    return None;
                }
                open.push(object);
                levels = levels.max(open.len());
                i = skip_ws(b, i + 1);
                let close = if object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    open.pop();
                    i += 1;
                } else {
                    if object {
                        i = member_value(b, i)?;
                    }
                    continue;
                }
            }
            _ => i = value_end_flat(b, i, seen)?,
        }
        // After a value: a comma and the next, or the end of its level.
        loop {
            let Some(object) = open.last() else {
                return Some((i, levels));
            };
            i = skip_ws(b, i);
            match (b.get(i)?, object) {
                (b',', true) => {
                    i = member_value(b, skip_ws(b, i + 1))?;
                    break;
                }
                (b',', false) => {
                    i = skip_ws(b, i + 1);
                    break;
                }
                (b'}', true) | (b']', false) => {
                    open.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

/// A record taken apart while it is checked: the marks of its layout, what is shown the string
/// values long enough to be date-times, and whether the layout is usable.
pub(super) struct TakingApart<'m, F> {
    pub marks: &'m mut Vec<Mark>,
    pub seen: F,
    /// Values checked before, for the values not taken apart.
    pub known: &'m mut Known,
    /// Cleared when the layout may differ from `raw`'s (an escaped key where a value is opened,
    /// a text past 4 GiB, where counts, which saturate, may be off too), for it to be dropped.
    pub usable: bool,
}

impl<F: FnMut(StringValue)> TakingApart<'_, F> {
    /// The object at `at` (`depth` levels down, itself included), checked exactly as
    /// `value_end` checks it and taken apart as `RawObject::parse_opening_seeing` takes it apart
    /// (with the objects and lists `opening` names taken apart too): how many entries it has,
    /// and the index past it.
    pub(super) fn object(
        &mut self,
        b: &[u8],
        at: usize,
        depth: usize,
        opening: &[Opening],
    ) -> Option<(u32, usize)> {
        if b.get(at) != Some(&b'{') || depth >= MAX_DEPTH {
            return None;
        }
        let mut entries = 0u32;
        let mut i = skip_ws(b, at + 1);
        if b.get(i) == Some(&b'}') {
            return Some((entries, i + 1));
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let (key_end, escaped) = string_escaped(b, i)?;
            let key = self.span(i, key_end);
            let colon = skip_ws(b, key_end);
            if b.get(colon) != Some(&b':') {
                return None;
            }
            let value = skip_ws(b, colon + 1);
            let open = match b.get(value) {
                Some(b'{' | b'[') if !opening.is_empty() => {
                    let name = &b[i + 1..key_end - 1];
                    if escaped {
                        self.usable = false;
                    }
                    opening.iter().find(|o| o.key.as_bytes() == name)
                }
                _ => None,
            };
            let head = self.marks.len();
            let end = match (open, b.get(value)) {
                (Some(open), Some(b'{')) => {
                    self.marks.push(Mark::Text { key, value: key });
                    let (inner, end) = self.object(b, value, depth + 1, &open.inner)?;
                    self.marks[head] = Mark::Object {
                        key,
                        entries: inner,
                        marks: marks_since(self.marks, head)?,
                    };
                    end
                }
                (Some(open), _) if open.items => {
                    self.marks.push(Mark::Text { key, value: key });
                    let (objects, len, end) = self.list(b, value, depth + 1, &open.inner)?;
                    self.marks[head] = Mark::List {
                        key,
                        value: self.span(value, end),
                        len,
                        objects,
                        marks: marks_since(self.marks, head)?,
                    };
                    end
                }
                _ => {
                    let end = self.value_end(b, value, depth + 1)?;
                    let value = self.span(value, end);
                    self.marks.push(Mark::Text { key, value });
                    end
                }
            };
            entries = entries.saturating_add(1);
            i = skip_ws(b, end);
            match b.get(i)? {
                b',' => i = skip_ws(b, i + 1),
                b'}' => return Some((entries, i + 1)),
                _ => return None,
            }
        }
    }

    /// The list at `at` (`depth` levels down, itself included), checked as `value_end` checks
    /// it, its objects taken apart as `object` takes them, each an `Item` of the marks (items
    /// that are not objects are left out, as `raw::array_objects` leaves them): how many objects
    /// and how many items it has, and the index past it.
    fn list(
        &mut self,
        b: &[u8],
        at: usize,
        depth: usize,
        opening: &[Opening],
    ) -> Option<(u32, u32, usize)> {
        if b.get(at) != Some(&b'[') || depth >= MAX_DEPTH {
            return None;
        }
        let (mut objects, mut len) = (0u32, 0u32);
        let mut i = skip_ws(b, at + 1);
        if b.get(i) == Some(&b']') {
            return Some((objects, len, i + 1));
        }
        loop {
            len = len.saturating_add(1);
            let end = if b.get(i) == Some(&b'{') {
                let head = self.marks.len();
                self.marks.push(Mark::Item {
                    entries: 0,
                    marks: 0,
                });
                let (entries, end) = self.object(b, i, depth + 1, opening)?;
                self.marks[head] = Mark::Item {
                    entries,
                    marks: marks_since(self.marks, head)?,
                };
                objects = objects.saturating_add(1);
                end
            } else {
                self.value_end(b, i, depth + 1)?
            };
            i = skip_ws(b, end);
            match b.get(i)? {
                b',' => i = skip_ws(b, i + 1),
                b']' => return Some((objects, len, i + 1)),
                _ => return None,
            }
        }
    }

    /// `value_end_seeing` for a value not taken apart: an object or list met before is not
    /// checked again.
    #[inline(always)]
    fn value_end(&mut self, b: &[u8], at: usize, depth: usize) -> Option<usize> {
        match b.get(at)? {
            b'{' | b'[' => self.known.nested_end(b, at, depth, &mut self.seen),
            _ => value_end_flat(b, at, &mut self.seen),
        }
    }

    /// A span as a layout keeps it; past 4 GiB an empty one, and the layout unusable.
    fn span(&mut self, start: usize, end: usize) -> Span {
        span(start, end).unwrap_or_else(|| {
            self.usable = false;
            (0, 0)
        })
    }
}

/// The levels open in a value, innermost last: whether each is an object, a bit each (`MAX_DEPTH`
/// fit in 128).
#[derive(Default)]
struct Levels {
    objects: u128,
    len: usize,
}

const _: () = assert!(MAX_DEPTH <= 128);

impl Levels {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, object: bool) {
        self.objects = (self.objects << 1) | u128::from(object);
        self.len += 1;
    }

    fn pop(&mut self) {
        self.objects >>= 1;
        self.len -= 1;
    }

    /// Whether the innermost level is an object; `None` when none is open.
    fn last(&self) -> Option<bool> {
        (self.len > 0).then_some(self.objects & 1 == 1)
    }
}

/// Past an object member's key and colon, at its value.
#[inline(always)]
fn member_value(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, string(b, at)?);
    (b.get(i) == Some(&b':')).then(|| skip_ws(b, i + 1))
}

/// `value_end` for a value that does not nest.
#[inline(always)]
fn value_end_flat(b: &[u8], at: usize, seen: &mut impl FnMut(StringValue)) -> Option<usize> {
    match b.get(at)? {
        b'"' => {
            let (end, escaped) = string_escaped(b, at)?;
            // As `raw` shows them: content of SEEN_MIN_LEN bytes or more.
            if end - at > SEEN_MIN_LEN + 1 {
                seen(StringValue {
                    open: at,
                    close: end - 1,
                    escaped,
                });
            }
            Some(end)
        }
        b't' => literal(b, at, b"true"),
        b'f' => literal(b, at, b"false"),
        b'n' => literal(b, at, b"null"),
        _ => number(b, at),
    }
}

fn literal(b: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let end = at + word.len();
    (b.get(at..end)? == word).then_some(end)
}

/// The index past the number at `at`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + usize::from(b.get(at) == Some(&b'-'));
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(b, i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return None;
        }
        i = end;
    } else if i - at <= MAX_PLAIN_DIGITS {
        return Some(i);
    }
    // Past a double's range (`1e400`) serde_json, and strict readers after the tap, refuse it.
    let text = std::str::from_utf8(b.get(at..i)?).ok()?;
    text.parse::<f64>().ok()?.is_finite().then_some(i)
}

/// Digits a number without an exponent may have and still be within a double's range.
const MAX_PLAIN_DIGITS: usize = 300;

/// Whether valid JSON `text` holds a number past a double's range, which serde_json reads as
/// `RawValue` without a word but refuses as a value.
pub(super) fn has_number_out_of_range(text: &str) -> bool {
    let b = text.as_bytes();
    let mut at = 0;
    while let Some(&byte) = b.get(at) {
        at = match byte {
            b'"' => match string(b, at) {
                Some(end) => end,
                None => return false,
            },
            b'-' | b'0'..=b'9' => match number(b, at) {
                Some(end) => end,
                None => return true,
            },
            _ => at + 1,
        };
    }
    false
}

fn digits(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    at
}

/// The index past the string whose opening quote is at `at`: no control characters, escapes
/// as JSON has them.
#[inline(always)]
pub(super) fn string(b: &[u8], at: usize) -> Option<usize> {
    Some(string_escaped(b, at)?.0)
}

/// `string`, and whether the string has escapes.
#[inline(always)]
fn string_escaped(b: &[u8], at: usize) -> Option<(usize, bool)> {
    let mut i = at + 1;
    let mut escaped = false;
    loop {
        let found = next_special(b, i)?;
        match b[found] {
            b'"' => return Some((found + 1, escaped)),
            b'\\' => {
                escaped = true;
                i = escape_end(b, found)?;
            }
            _ => return None,
        }
    }
}

/// The index past the escape whose backslash is at `at`.
fn escape_end(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(at + 2),
        b'u' => {
            let hex = b.get(at + 2..at + 6)?;
            crate::surrogates::note(hex);
            hex.iter().all(u8::is_ascii_hexdigit).then_some(at + 6)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;

    #[test]
    fn numbers_past_a_doubles_range_are_refused_as_serde_json_refuses_them() {
        for huge in [
            "1e400",
            "-2E+308",
            &"9".repeat(400),
            &format!("{}.5e10", "1".repeat(300)),
        ] {
            assert!(serde_json::from_str::<Value>(huge).is_err(), "{huge}");
            assert_eq!(number(huge.as_bytes(), 0), None, "{huge}");
            assert!(has_number_out_of_range(&format!(
                r#"{{"a":"1e400","b":[{huge}]}}"#
            )));
        }
        for fine in [
            "1e308",
            "-0",
            "1e-400",
            "0e999999",
            &"9".repeat(300),
            "1.5E+3",
        ] {
            assert!(serde_json::from_str::<Value>(fine).is_ok(), "{fine}");
            assert_eq!(number(fine.as_bytes(), 0), Some(fine.len()), "{fine}");
            assert!(!has_number_out_of_range(&format!(
                r#"{{"a":"1e400","b":[{fine}]}}"#
            )));
        }
    }

    /// Checked here exactly when serde_json accepts it, for values that do not need serde.
    fn agrees(text: &str) {
        let serde = serde_json::from_str::<IgnoredAny>(text).is_ok();
        let ours = split(&format!("[{text}]"), &[]).is_some();
        assert_eq!(ours, serde, "{text:?}: ours {ours}, serde_json {serde}");
    }

    #[test]
    fn accepts_what_serde_json_accepts_and_nothing_else() {
        for text in [
            "0",
            "-0",
            "12",
            "-12.5e+3",
            "1E5",
            "0.0",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "1e+",
            "true",
            "tru",
            "false",
            "null",
            "nul",
            "nulll",
            r#""""#,
            r#""a\"b""#,
            r#""\u00e9""#,
            r#""\u00g9""#,
            r#""\x""#,
            "\"a\tb\"",
            "\"a\u{1}b\"",
            r#""unterminated"#,
            r#""a string longer than one block of sixteen bytes, with \n an escape""#,
            "\"a string longer than one block of sixteen bytes, with a tab \t inside\"",
            "[]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{}",
            r#"{"a":1}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":{"b":[1,{"c":null}]}, "d": [[], {}]}"#,
            "[[[]]",
            "[{]}",
            "{[]}",
            " [ 1 , 2 ] ",
            "[1]]",
            "é",
        ] {
            agrees(text);
        }
    }

    #[test]
    fn records_and_the_rest_are_found() {
        let text = r#"{"startAt": 0, "issues": [{"id": "1"}, 2], "isLast": true}"#;
        let split = split(text, &["issues"]).unwrap();
        let rest: Vec<(&str, &str)> = split
            .rest
            .iter()
            .map(|(k, v)| (&text[k.clone()], &text[v.clone()]))
            .collect();
        assert_eq!(rest, vec![("startAt", "0"), ("isLast", "true")]);
        let Items::List(items) = split.items else {
            panic!("no list");
        };
        let items: Vec<&str> = items.iter().map(|s| &text[s.clone()]).collect();
        assert_eq!(items, vec![r#"{"id": "1"}"#, "2"]);
    }

    #[test]
    fn unusual_bodies_are_left_to_serde_json() {
        assert_eq!(split(r#"{"a\u0062": 1}"#, &["issues"]), None);
        assert_eq!(split("[1]", &["issues"]), None);
        assert_eq!(split("{}", &[]), None);
        let nested = |levels: usize| "[".repeat(levels) + &"]".repeat(levels);
        assert!(split(&nested(MAX_DEPTH), &[]).is_some());
        assert_eq!(split(&nested(MAX_DEPTH + 1), &[]), None);
    }

    #[test]
    fn a_nested_path_finds_its_list_or_nothing() {
        let at = |text: &str| split(text, &["changelog", "histories"]).map(|s| s.items);
        assert_eq!(
            at(r#"{"changelog": {"x": {"histories": [0]}, "histories": [1, 2]}}"#),
            Some(Items::List(vec![54..55, 57..58]))
        );
        assert_eq!(at(r#"{"changelog": 5}"#), Some(Items::Absent));
        assert_eq!(
            at(r#"{"changelog": {"histories": null}}"#),
            Some(Items::Absent)
        );
        assert_eq!(
            at(r#"{"changelog": {"histories": {}}}"#),
            Some(Items::NotAList)
        );
    }
}
