//! A page body split into its records while it arrives, chunk by chunk, so that it is never held
//! whole: each record is copied out once, from the chunk it lies in or from a small window that
//! carries what a chunk's end cut off, where the whole body used to be gathered into a buffer
//! that grew (and was faulted in) page after page.
//!
//! It gives exactly what `pages::split_page` gives for the whole body. A body it cannot follow —
//! an error, a key with escapes, no list or two, anything unusual — it gives back whole, byte for
//! byte, for `split_page` to read: so what is accepted, and every error message, stays the same.
//!
//! Asked to (`taking_apart`), it also takes each record apart while it checks it, as the raw
//! reader would: issues are then read once, not once to check and again to take apart.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use serde_json::Value;

use super::known::Known;
use super::split::{TakingApart, rest_value, string, value_end};
use super::{List, RawRecord, Scanned};
use crate::raw::{Layout, Mark, Opening, StringValue};
use crate::scan::skip_ws;
use crate::timestamp::DateSpans;

/// Bytes a window gathers before it is taken apart: a record cut off at the window's end is read
/// again with the next window, so a wide window reads few records twice.
const WINDOW: usize = 256 << 10;

/// The least of a long chunk a record carried over from the last one is given before a try: most
/// records are smaller.
const MIN_CARRY: usize = 64 << 10;

/// A page body being split as it arrives.
pub struct PageReader {
    /// The records' key at the top level; `None` for a body that is the list.
    key: Option<&'static str>,
    /// Bytes received and not yet taken apart (a record cut off, or chunks too short to try)
    /// start at `taken`.
    window: Vec<u8>,
    taken: usize,
    /// Bytes the window holds before the next try: at least `min_window`, and twice a record
    /// that did not fit, so a large record is read again only a few times.
    wanted: usize,
    min_window: usize,
    /// The body's declared length, when it has one: no window need be wider.
    declared: usize,
    stage: Stage,
    /// What was taken apart and is not a record, as it came: braces, other keys, commas.
    skeleton: Vec<u8>,
    /// Where each record sat in `skeleton`, to give the body back whole.
    record_at: Vec<usize>,
    records: Vec<RawRecord>,
    /// The top level's other keys and their values, as spans of `skeleton`.
    rest: Vec<(Range<usize>, Range<usize>)>,
    received: usize,
    /// When records are taken apart as they are checked, the objects to open in them.
    opening: Option<Arc<[Opening]>>,
    /// The record being taken apart: its layout's marks, and its long string values.
    marks: Vec<Mark>,
    strings: Vec<StringValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before the body's first byte that is not whitespace.
    Start,
    /// In the top object, before the records' key.
    Head,
    /// In the list; `first` until a record has been taken.
    Items { first: bool },
    /// In the top object, after the list.
    Tail,
    /// Past the body's value: only whitespace may follow.
    End,
    /// Not followed: the rest is gathered, and the body given back whole.
    Whole,
}

/// What one step did with the window.
enum Step {
    /// Took this many bytes.
    Took(usize),
    /// The window ends too soon to tell.
    Wait,
    /// The body is not one this reader follows.
    Whole,
}

/// A body split as `split_page` splits it: the other top-level keys, and the records.
#[derive(Debug)]
pub struct SplitBody {
    pub rest: Value,
    pub items: List<RawRecord>,
    /// The body's length.
    pub bytes: usize,
}

impl PageReader {
    /// A reader for records under the top-level `key`, or for a body that is the list (`None`).
    /// Keys that are JSON pointers are not followed: the body is gathered whole.
    pub fn new(key: Option<&'static str>) -> PageReader {
        PageReader::with_window(key, WINDOW)
    }

    /// A reader for a body given whole, in one `push`: its records are taken apart where they
    /// lie, none gathered into a window first.
    pub fn whole(key: Option<&'static str>) -> PageReader {
        PageReader::with_window(key, 1)
    }

    /// Takes the body's declared length: a small answer (an issue's votes) is not given a whole
    /// window, which glibc maps and unmaps for each request.
    pub fn expect_length(&mut self, length: Option<u64>) {
        if let Some(length) = length {
            self.declared = usize::try_from(length).unwrap_or(usize::MAX);
        }
    }

    /// `new` with the window `min_window` bytes wide: narrow windows test the seams.
    pub fn with_window(key: Option<&'static str>, min_window: usize) -> PageReader {
        let followed = !key.is_some_and(|key| key.starts_with('/'));
        PageReader {
            key,
            window: Vec::new(),
            taken: 0,
            wanted: min_window,
            min_window,
            declared: usize::MAX,
            stage: if followed { Stage::Start } else { Stage::Whole },
            skeleton: Vec::new(),
            record_at: Vec::new(),
            records: Vec::new(),
            rest: Vec::new(),
            received: 0,
            opening: None,
            marks: Vec::new(),
            strings: Vec::new(),
        }
    }

    /// Records taken apart while they are checked, with `opening`'s objects (when given): the
    /// check reads every byte of them already, so a later reading would be a second.
    pub fn taking_apart(mut self, opening: Option<Arc<[Opening]>>) -> PageReader {
        self.opening = opening;
        self
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// Takes in the body's next bytes. Records that lie whole in a long chunk are taken apart
    /// where they lie; only what a chunk's end cuts off is copied into the window, and a record
    /// carried over is finished with as little of the next chunk as it should need.
    pub fn push(&mut self, chunk: &[u8]) {
        self.received += chunk.len();
        let mut rest = chunk;
        // Past the body's value nothing more is taken apart: what follows is kept, for `finish`
        // to find it whitespace or give the body back whole. Tried there, a window that already
        // held what it wanted would be tried again and again, taking nothing.
        while !matches!(self.stage, Stage::Whole | Stage::End) && !rest.is_empty() {
            let carried = self.window.len() - self.taken;
            if carried == 0 {
                if rest.len() >= self.wanted {
                    let taken = self.run(rest);
                    rest = &rest[taken..];
                }
                break;
            }
            // With a long chunk at hand, twice what is carried should finish its record; with a
            // short one, the window gathers as much as it wants before it tries.
            let want = if rest.len() >= self.wanted {
                carried.saturating_mul(2).max(self.min_carry())
            } else {
                self.wanted
            };
            let add = want.saturating_sub(carried).min(rest.len());
            self.keep(&rest[..add]);
            rest = &rest[add..];
            if self.window.len() - self.taken < want {
                break;
            }
            self.advance();
            // What the window left unread and came from this chunk goes back to it.
            let left = self.window.len() - self.taken;
            if self.stage != Stage::Whole && left <= add {
                self.window.truncate(self.taken);
                rest = &chunk[chunk.len() - rest.len() - left..];
            }
        }
        self.keep(rest);
    }

    /// The least a record carried over is given of the next chunk before a try.
    fn min_carry(&self) -> usize {
        self.min_window.min(MIN_CARRY)
    }

    /// Adds `bytes` to the window, after letting go of what was taken apart.
    fn keep(&mut self, bytes: &[u8]) {
        if self.stage != Stage::Whole && self.taken > 0 {
            self.window.drain(..self.taken);
            self.taken = 0;
        }
        // Room for what the window gathers before its next try, at once: grown by doubling, the
        // window was copied five times on its way to the first.
        let needed = self.window.len() + bytes.len();
        if self.stage != Stage::Whole && needed > self.window.capacity() {
            let room = self.wanted.min(self.declared).max(needed);
            self.window.reserve(room - self.window.len());
        }
        self.window.extend_from_slice(bytes);
    }

    /// The body split, once all of it has arrived; or the whole body when it is not one this
    /// reader follows (or not valid JSON), for `split_page` to read.
    pub fn finish(mut self) -> Result<SplitBody, Vec<u8>> {
        if self.stage != Stage::Whole {
            self.advance();
        }
        match self.split() {
            Some(split) => Ok(split),
            None => Err(self.into_body()),
        }
    }

    /// The parts, when the body was followed to its end.
    fn split(&mut self) -> Option<SplitBody> {
        if self.stage != Stage::End || skip_ws(&self.window, self.taken) != self.window.len() {
            return None;
        }
        let skeleton = std::str::from_utf8(&self.skeleton).ok()?;
        let rest = match self.key {
            None => Value::Null,
            Some(_) => rest_value(skeleton, &self.rest)?,
        };
        Some(SplitBody {
            rest,
            items: List::Items(std::mem::take(&mut self.records)),
            bytes: self.received,
        })
    }

    /// The body as it came: the skeleton with the records back in their places, then what was
    /// not taken apart (lone surrogate escapes replaced throughout, once any body had one).
    pub fn into_body(self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.received);
        let mut from = 0;
        for (at, record) in self.record_at.iter().zip(&self.records) {
            body.extend_from_slice(&self.skeleton[from..*at]);
            body.extend_from_slice(record.get().as_bytes());
            from = *at;
        }
        body.extend_from_slice(&self.skeleton[from..]);
        body.extend_from_slice(&self.window[self.taken..]);
        // The records taken had their lone surrogate escapes replaced (`surrogates::checked`):
        // the rest is replaced alike, or the body would come back half in each form.
        match String::from_utf8(body) {
            Ok(text) => crate::surrogates::checked(text).into_bytes(),
            Err(e) => e.into_bytes(),
        }
    }

    /// Takes apart what the window holds, as far as it goes.
    fn advance(&mut self) {
        // Out of `self` while the steps add to the other parts.
        let window = std::mem::take(&mut self.window);
        self.taken += self.run(&window[self.taken..]);
        self.window = window;
    }

    /// Takes apart what `w` holds, as far as it goes; returns how many bytes that took.
    fn run(&mut self, w: &[u8]) -> usize {
        let mut taken = 0;
        loop {
            let step = match self.stage {
                Stage::Start => self.start(&w[taken..]),
                Stage::Head => self.member(&w[taken..], false),
                Stage::Items { first } => self.item(&w[taken..], first),
                Stage::Tail => self.member(&w[taken..], true),
                Stage::End | Stage::Whole => return taken,
            };
            match step {
                Step::Took(n) => taken += n,
                Step::Wait => {
                    let left = w.len() - taken;
                    self.wanted = self.min_window.max(left.saturating_mul(2));
                    return taken;
                }
                Step::Whole => {
                    self.stage = Stage::Whole;
                    return taken;
                }
            }
        }
    }

    /// The body's opening: `{`, or `[` for a body that is the list.
    fn start(&mut self, w: &[u8]) -> Step {
        let i = skip_ws(w, 0);
        let (open, next) = match self.key {
            Some(_) => (b'{', Stage::Head),
            None => (b'[', Stage::Items { first: true }),
        };
        match w.get(i) {
            None => Step::Wait,
            Some(&b) if b == open => self.take(w, i + 1, next),
            Some(_) => Step::Whole,
        }
    }

    /// One member of the top object, or its end; `after` the list, another list is not followed.
    fn member(&mut self, w: &[u8], after: bool) -> Step {
        let mut i = skip_ws(w, 0);
        if after {
            match w.get(i) {
                None => return Step::Wait,
                Some(b',') => i = skip_ws(w, i + 1),
                Some(b'}') => return self.take(w, i + 1, Stage::End),
                Some(_) => return Step::Whole,
            }
        }
        // Before the list, a closing brace means there is none: left to `split_page`.
        match w.get(i) {
            None => return Step::Wait,
            Some(b'"') => {}
            Some(_) => return Step::Whole,
        }
        let Some(key_end) = string(w, i) else {
            return Step::Wait;
        };
        let key = i + 1..key_end - 1;
        if w[key.clone()].contains(&b'\\') {
            return Step::Whole;
        }
        let colon = skip_ws(w, key_end);
        match w.get(colon) {
            None => return Step::Wait,
            Some(b':') => {}
            Some(_) => return Step::Whole,
        }
        let value = skip_ws(w, colon + 1);
        if self.key.is_some_and(|k| k.as_bytes() == &w[key.clone()]) {
            return match (w.get(value), after) {
                (None, _) => Step::Wait,
                (Some(b'['), false) => self.take(w, value + 1, Stage::Items { first: true }),
                _ => Step::Whole,
            };
        }
        let Some(end) = value_end(w, value, 1) else {
            return Step::Wait;
        };
        // A number cut off by the window's end looks whole: the byte after it tells.
        let next = skip_ws(w, end);
        // Before the list a member is taken with its comma (a closing brace there means no
        // list); after it, the comma is taken with the next member.
        let taken = match (w.get(next), after) {
            (None, _) => return Step::Wait,
            (Some(b','), false) => next + 1,
            (Some(b',' | b'}'), true) => end,
            _ => return Step::Whole,
        };
        let at = self.skeleton.len();
        self.rest
            .push((at + key.start..at + key.end, at + value..at + end));
        let stage = if after { Stage::Tail } else { Stage::Head };
        self.take(w, taken, stage)
    }

    /// One record of the list (after its comma), or the list's end.
    fn item(&mut self, w: &[u8], first: bool) -> Step {
        let mut i = skip_ws(w, 0);
        match w.get(i) {
            None => return Step::Wait,
            Some(b']') => {
                let next = if self.key.is_some() {
                    Stage::Tail
                } else {
                    Stage::End
                };
                return self.take(w, i + 1, next);
            }
            Some(b',') if !first => i = skip_ws(w, i + 1),
            Some(_) if first => {}
            Some(_) => return Step::Whole,
        }
        let depth = if self.key.is_some() { 2 } else { 1 };
        let (end, parts) = match &self.opening {
            Some(opening) if w.get(i) == Some(&b'{') => {
                // The marks and strings of one record at a time, in buffers reused: a record
                // gets its own layout in one allocation.
                self.marks.clear();
                self.strings.clear();
                let strings = &mut self.strings;
                let taken = with_known(|known| {
                    let mut taking = TakingApart {
                        marks: &mut self.marks,
                        seen: |s| strings.push(s),
                        known,
                        usable: true,
                    };
                    let (entries, end) = taking.object(&w[i..], 0, depth, opening)?;
                    Some((i + end, taking.usable.then_some(entries)))
                });
                let Some(taken) = taken else {
                    return Step::Wait;
                };
                taken
            }
            _ => match value_end(w, i, depth) {
                Some(end) => (end, None),
                None => return Step::Wait,
            },
        };
        if skip_ws(w, end) == w.len() {
            return Step::Wait;
        }
        let Ok(record) = simdutf8::basic::from_utf8(&w[i..end]) else {
            return Step::Whole;
        };
        self.skeleton.extend_from_slice(&w[..i]);
        self.record_at.push(self.skeleton.len());
        self.records.push(match parts {
            Some(entries) => {
                let layout = Layout::from_marks(entries, self.marks.clone());
                scanned(record, layout, &self.strings)
            }
            None => RawRecord::from_string(record.to_string()),
        });
        self.stage = Stage::Items { first: false };
        Step::Took(end)
    }

    /// Takes `w[..n]` into the skeleton and moves on to `stage`.
    fn take(&mut self, w: &[u8], n: usize, stage: Stage) -> Step {
        self.skeleton.extend_from_slice(&w[..n]);
        self.stage = stage;
        Step::Took(n)
    }
}

thread_local! {
    /// The values checked before on this thread, kept from page to page.
    static KNOWN: RefCell<Known> = RefCell::default();
}

/// `f` with this thread's values checked before (none, should they be in use already).
fn with_known<T>(f: impl FnOnce(&mut Known) -> T) -> T {
    KNOWN.with(|known| match known.try_borrow_mut() {
        Ok(mut known) => f(&mut known),
        Err(_) => f(&mut Known::default()),
    })
}

/// A record and what taking it apart found: its layout, and of the string values seen in it
/// those that are date-times to rewrite.
fn scanned(record: &str, layout: Layout, strings: &[StringValue]) -> RawRecord {
    let dates = DateSpans::of(record, strings);
    RawRecord::scanned(record.to_string(), Scanned { layout, dates })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::raw::RawObject;

    /// `body` pushed `chunk` bytes at a time through a window `window` bytes wide.
    fn read(body: &str, key: Option<&'static str>, chunk: usize, window: usize) -> PageReader {
        let mut reader = PageReader::with_window(key, window);
        for piece in body.as_bytes().chunks(chunk) {
            reader.push(piece);
        }
        reader
    }

    fn records(split: &SplitBody) -> Vec<&str> {
        match &split.items {
            List::Items(items) => items.iter().map(RawRecord::get).collect(),
            other => panic!("no list: {other:?}"),
        }
    }

    #[test]
    fn a_body_of_declared_length_takes_no_wider_window() {
        let body = r#"{"values": [{"id": "1"}, {"id": "2"}], "isLast": true}"#;
        let mut reader = PageReader::new(Some("values"));
        reader.expect_length(Some(body.len() as u64));
        reader.push(body.as_bytes());
        assert!(
            reader.window.capacity() < 1024,
            "{}",
            reader.window.capacity()
        );
        let split = reader.finish().unwrap_or_else(|_| panic!("not split"));
        assert_eq!(records(&split), [r#"{"id": "1"}"#, r#"{"id": "2"}"#]);
        // Without a length, the window is as wide as ever.
        let mut reader = PageReader::new(Some("values"));
        reader.push(body.as_bytes());
        assert!(reader.window.capacity() >= WINDOW);
    }

    #[test]
    fn a_page_is_split_whatever_its_chunks() {
        let body = " {\"startAt\": 0, \"issues\": [ {\"id\": \"1\", \"f\": [1, {\"a\": \"}\\\"\"}]} ,\n\
                    {\"id\": \"2\"} ], \"total\": 20, \"isLast\": true }\n";
        for chunk in [1, 2, 3, 5, 8, 13, 64, body.len()] {
            for window in [1, 10, 1000] {
                let split = read(body, Some("issues"), chunk, window)
                    .finish()
                    .unwrap_or_else(|_| panic!("given back in chunks of {chunk}"));
                assert_eq!(
                    split.rest,
                    json!({"startAt": 0, "total": 20, "isLast": true})
                );
                assert_eq!(
                    records(&split),
                    [
                        "{\"id\": \"1\", \"f\": [1, {\"a\": \"}\\\"\"}]}",
                        "{\"id\": \"2\"}"
                    ]
                );
                assert_eq!(split.bytes, body.len());
            }
        }
    }

    #[test]
    fn a_body_that_is_the_list_is_split() {
        let split = read("[{\"a\": 1}, 2, \"x\"]", None, 1, 1).finish().unwrap();
        assert_eq!(split.rest, Value::Null);
        assert_eq!(records(&split), ["{\"a\": 1}", "2", "\"x\""]);
        let empty = read("{\"values\": []}", Some("values"), 1, 1)
            .finish()
            .unwrap();
        assert_eq!(records(&empty), Vec::<&str>::new());
    }

    #[test]
    fn a_number_cut_by_a_chunk_is_read_whole() {
        let body = "{\"total\": 12345, \"values\": [6789], \"n\": 10}";
        let split = read(body, Some("values"), 3, 1).finish().unwrap();
        assert_eq!(split.rest, json!({"total": 12345, "n": 10}));
        assert_eq!(records(&split), ["6789"]);
    }

    /// Anything this reader does not follow comes back as it came, for `split_page`.
    #[test]
    fn bodies_not_followed_are_given_back_whole() {
        for (body, key) in [
            ("{\"values\": [1, 2,]}", Some("values")),
            ("{\"values\": [1, 2]", Some("values")),
            ("{\"values\": [1, 2]} x", Some("values")),
            ("{\"values\": null}", Some("values")),
            ("{\"values\": {}}", Some("values")),
            ("{\"total\": 1}", Some("values")),
            ("{\"val\\u0075es\": [1]}", Some("values")),
            ("{\"values\": [1], \"values\": [2]}", Some("values")),
            ("[1, 2]", Some("values")),
            ("{\"values\": [1]}", None),
            ("{\"page\": {\"values\": [1]}}", Some("/page/values")),
            ("{\"values\": [\"\u{e9}\u{1F600}\", 1e]}", Some("values")),
            ("", Some("values")),
        ] {
            for chunk in [1, 4, 100] {
                let given = read(body, key, chunk, 1).finish().map(|s| s.rest);
                assert_eq!(
                    given.unwrap_err(),
                    body.as_bytes(),
                    "{body:?} in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn what_follows_the_body_in_small_chunks_is_read_to_its_end() {
        // A hostile server's padding after the value, a byte at a time: the reader once waited
        // on it forever, trying a full window again and again.
        for tail in [" ".repeat(300), format!("{} x", " ".repeat(300))] {
            let body = format!("{{\"issues\": [{{\"id\": \"1\", \"a\": [1, 2, 3]}}]}}{tail}");
            let (done, finished) = std::sync::mpsc::channel();
            let pushed = body.clone();
            std::thread::spawn(move || {
                let mut reader = PageReader::with_window(Some("issues"), 1);
                for byte in pushed.as_bytes().chunks(1) {
                    reader.push(byte);
                }
                let _ = done.send(reader.finish().map(|split| split.bytes));
            });
            let got = finished
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("the reader finishes");
            match tail.trim() {
                "" => assert_eq!(got, Ok(body.len())),
                _ => assert_eq!(got, Err(body.into_bytes()), "given back whole"),
            }
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_given_back() {
        let mut body = b"{\"values\": [\"".to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(b"\"]}");
        let mut reader = PageReader::with_window(Some("values"), 1);
        reader.push(&body);
        assert_eq!(reader.finish().unwrap_err(), body);
    }

    #[test]
    fn records_are_taken_apart_as_the_raw_reader_takes_them() {
        let body = r#"{"issues": [
            {"id": "1", "fields": {"updated": "2024-01-31T13:05:00.000+0000", "a": [1]}, "x": 2},
            {"id": "2", "fields": {"summary": "a \"quoted\" text of some length"}},
            {"id": "3", "fi\u0065lds": {"a": 1}},
            [1]
        ]}"#;
        let opening: Arc<[Opening]> = Opening::to(["/fields"]).into();
        for chunk in [1, 7, body.len()] {
            let mut reader =
                PageReader::with_window(Some("issues"), 1).taking_apart(Some(opening.clone()));
            for piece in body.as_bytes().chunks(chunk) {
                reader.push(piece);
            }
            let List::Items(records) = reader.finish().unwrap().items else {
                panic!("no list");
            };
            let scanned: Vec<Option<Scanned>> =
                records.into_iter().map(|mut r| r.take_scanned()).collect();
            let [Some(first), Some(second), None, None] = &scanned[..] else {
                panic!("taken apart: {scanned:?}");
            };
            for (line, scanned) in [(1, first), (2, second)] {
                let text = body.lines().nth(line).unwrap().trim().trim_end_matches(',');
                let mut dates = DateSpans::new(text);
                let object =
                    RawObject::parse_opening_seeing(text, &opening, &mut |s| dates.see(text, s))
                        .unwrap();
                assert_eq!(Some(&scanned.layout), Layout::of(&object, text).as_ref());
                assert_eq!(scanned.dates, dates);
                assert_ne!(scanned.dates, DateSpans::new(text), "a string was kept");
            }
        }
    }
}
