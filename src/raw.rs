//! JSON text taken apart one object level at a time and put back together, without building
//! `serde_json::Value`s: issues and their lists pass through the tap as Jira wrote them.
//!
//! The text comes from `RawRecord`s, checked as JSON with their body, so it is valid; the scanner still
//! answers `None` rather than panicking on text that is not.

use std::borrow::Cow;

use memchr::memchr2;

use crate::client::RawRecord;
use crate::scan::next_special;

/// One level of a JSON object, in its order. Keys are kept as their JSON tokens (quotes included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawObject<'a> {
    entries: Vec<(&'a str, Node<'a>)>,
}

/// A value of a `RawObject`: text as it came, an object taken apart, a list as it came with its
/// objects taken apart, or text built by the tap.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Text(&'a str),
    Object(RawObject<'a>),
    /// Boxed: a list is rarer than text, and an entry of every object is as large as its
    /// largest kind of value.
    List(Box<RawList<'a>>),
    Owned(String),
}

/// A list as it came, with its items that are objects taken apart (`array_objects`).
#[derive(Debug, Clone, PartialEq)]
pub struct RawList<'a> {
    pub text: &'a str,
    pub objects: Vec<RawObject<'a>>,
    /// How many items it has, objects or not.
    pub len: usize,
}

impl<'a> Node<'a> {
    /// A JSON string.
    pub fn string(s: &str) -> Node<'a> {
        let mut text = String::with_capacity(s.len() + 2);
        push_json_string(&mut text, s);
        Node::Owned(text)
    }

    /// The value's text when it was not built or taken apart into an object.
    pub fn text(&self) -> Option<&'a str> {
        match self {
            Node::Text(t) => Some(t),
            Node::List(list) => Some(list.text),
            _ => None,
        }
    }

    /// The value's JSON text, as it came or as the tap built it; `None` when it was taken apart.
    pub fn json_text(&self) -> Option<&str> {
        match self {
            Node::Owned(text) => Some(text),
            other => other.text(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Text("null"))
    }

    /// The object this value is, taken apart (once) so it can be changed.
    pub fn object_mut(&mut self) -> Option<&mut RawObject<'a>> {
        if let Node::Text(text) = self {
            *self = Node::Object(RawObject::parse(text)?);
        }
        match self {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value's JSON text, as it came or was built.
    pub fn write_to(&self, out: &mut String) {
        self.write_with(out, &as_it_came);
    }

    /// The value's JSON text, the text that came with it passed through `text` on the way.
    pub fn write_with(&self, out: &mut String, text: &impl WriteText) {
        match self {
            Node::Text(t) => text.write_text(t, out),
            Node::List(list) => text.write_text(list.text, out),
            Node::Object(o) => o.write_with(out, text),
            Node::Owned(s) => out.push_str(s),
        }
    }
}

impl<'a> RawObject<'a> {
    /// The entries of a JSON object's text; `None` when it is not an object.
    pub fn parse(text: &'a str) -> Option<RawObject<'a>> {
        RawObject::parse_opening(text, &[])
    }

    /// `parse`, with the objects `opening` names taken apart in the same pass: reading them
    /// apart later would scan their text twice.
    pub fn parse_opening(text: &'a str, opening: &[Opening]) -> Option<RawObject<'a>> {
        RawObject::parse_opening_seeing(text, opening, &mut |_| {})
    }

    /// `parse_opening`, showing `seen` every string value (not key) long enough to be a
    /// date-time, in text order: what it looks for in them needs no second scan of the text.
    pub fn parse_opening_seeing(
        text: &'a str,
        opening: &[Opening],
        seen: &mut impl FnMut(StringValue),
    ) -> Option<RawObject<'a>> {
        let at = skip_ws(text.as_bytes(), 0);
        Some(RawObject::parse_at(text, at, opening, seen)?.0)
    }

    /// The object starting at `at` (with the objects `opening` names taken apart), and the
    /// index just past it.
    fn parse_at(
        text: &'a str,
        at: usize,
        opening: &[Opening],
        seen: &mut impl FnMut(StringValue),
    ) -> Option<(RawObject<'a>, usize)> {
        let b = text.as_bytes();
        // Most of Jira's objects have a few keys: room for them at once, not grown thrice.
        let mut entries = Vec::with_capacity(8);
        let end = walk_object(text, at, |key, at| {
            let open = || opening.iter().find(|o| key_is(key, o.key));
            match b.get(at) {
                Some(b'{') if let Some(open) = open() => {
                    let (object, end) = RawObject::parse_at(text, at, &open.inner, seen)?;
                    entries.push((key, Node::Object(object)));
                    return Some(Some(end));
                }
                Some(b'[') if let Some(open) = open().filter(|o| o.items) => {
                    let (list, end) = list_objects(text, at, &open.inner, seen)?;
                    entries.push((key, Node::List(Box::new(list))));
                    return Some(Some(end));
                }
                _ => {}
            }
            let end = value_end_seeing(b, at, seen)?;
            entries.push((key, Node::Text(text.get(at..end)?)));
            Some(Some(end))
        })?;
        Some((RawObject { entries }, end?))
    }

    /// The entries in their order: each key as its JSON token (quotes included), and its value.
    pub fn entries(&self) -> impl Iterator<Item = (&'a str, &Node<'a>)> {
        self.entries.iter().map(|(key, value)| (*key, value))
    }

    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| key_is(k, key))
            .map(|(_, v)| v)
    }

    /// The value of the `index`th entry.
    pub fn value_at(&self, index: usize) -> Option<&Node<'a>> {
        self.entries.get(index).map(|(_, value)| value)
    }

    /// Sets the value of the `index`th entry, if there is one.
    pub fn set_at(&mut self, index: usize, value: Node<'a>) {
        if let Some((_, v)) = self.entries.get_mut(index) {
            *v = value;
        }
    }

    /// An object with room for `entries` entries.
    pub fn with_capacity(entries: usize) -> RawObject<'a> {
        RawObject {
            entries: Vec::with_capacity(entries),
        }
    }

    /// Adds an entry last; for objects the tap builds, whose keys are known to differ.
    pub fn push(&mut self, key: &'a str, value: Node<'a>) {
        self.entries.push((key, value));
    }

    /// Takes an entry out; the last entry takes its place, as with `serde_json::Map::remove`,
    /// so records keep the key order they had when they were built as values.
    pub fn remove(&mut self, key: &str) -> Option<Node<'a>> {
        let at = self.entries.iter().position(|(k, _)| key_is(k, key))?;
        Some(self.entries.swap_remove(at).1)
    }

    /// Sets `key` (a JSON string token, quotes included): in its place when present, last when not.
    pub fn insert(&mut self, key: &'a str, value: Node<'a>) {
        let name = key.get(1..key.len().saturating_sub(1)).unwrap_or("");
        match self.entries.iter_mut().find(|(k, _)| key_is(k, name)) {
            Some((_, v)) => *v = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The object under `key`, taken apart (once) so it can be changed; `None` when there is no
    /// such key or its value is not an object.
    pub fn object_mut(&mut self, key: &str) -> Option<&mut RawObject<'a>> {
        self.entries
            .iter_mut()
            .find(|(k, _)| key_is(k, key))?
            .1
            .object_mut()
    }

    /// The object at a JSON pointer (`/fields/comment`), taken apart level by level.
    pub fn pointer_mut(&mut self, pointer: &str) -> Option<&mut RawObject<'a>> {
        let mut at = self;
        for key in pointer.split('/').skip(1) {
            at = at.object_mut(key)?;
        }
        Some(at)
    }

    /// The text at a JSON pointer (`/fields/comment/total`), reading nested text without
    /// keeping it apart.
    pub fn pointer(&self, pointer: &str) -> Option<&'a str> {
        self.pointer_keys(pointer.split('/').skip(1))
    }

    /// The value at a JSON pointer when every object on the way there was taken apart.
    pub fn node_at(&self, pointer: &str) -> Option<&Node<'a>> {
        let (parent, key) = pointer.rsplit_once('/')?;
        let mut object = self;
        for key in parent.split('/').skip(1) {
            match object.get(key)? {
                Node::Object(inner) => object = inner,
                _ => return None,
            }
        }
        object.get(key)
    }

    /// The text of `key` in the object at a JSON pointer, whether or not it was taken apart.
    pub fn pointer_then(&self, pointer: &str, key: &str) -> Option<&'a str> {
        self.pointer_keys(pointer.split('/').skip(1).chain([key]))
    }

    fn pointer_keys<'k>(&self, mut keys: impl Iterator<Item = &'k str>) -> Option<&'a str> {
        let mut object = self;
        let mut text = loop {
            match object.get(keys.next()?)? {
                Node::Object(inner) => object = inner,
                Node::Text(t) => break *t,
                Node::List(list) => break list.text,
                Node::Owned(_) => return None,
            }
        };
        for key in keys {
            text = find(text, key)?;
        }
        Some(text)
    }

    /// Gives entries another key: `to` answers, for a key name, the new key as a JSON string
    /// token (quotes included), or `None` to leave it.
    pub fn rename_keys(&mut self, to: impl Fn(&str) -> Option<&'a str>) {
        for (key, _) in &mut self.entries {
            if let Some(token) = to(&key_name(key)) {
                *key = token;
            }
        }
    }

    /// Keeps the entries `keep` says yes to, by key name.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Node<'a>) -> bool) {
        self.entries
            .retain_mut(|(key, value)| keep(&key_name(key), value));
    }

    /// The object's JSON text.
    pub fn write_to(&self, out: &mut String) {
        self.write_with(out, &as_it_came);
    }

    /// The object's JSON text, the text that came with it passed through `text` on the way (the
    /// keys and what the tap built are written as they are). Entries that lie side by side in
    /// the text `text` knows as they came (`"key":value,"key":value`) go through it as one part.
    pub fn write_with(&self, out: &mut String, text: &impl WriteText) {
        out.push('{');
        let base = text.base();
        // The span of `base` the entries since the last one written lie in.
        let mut run: Option<(usize, usize)> = None;
        let flush = |run: Option<(usize, usize)>, out: &mut String| {
            if let (Some((start, end)), Some(base)) = (run, base) {
                text.write_text(base.get(start..end).unwrap_or_default(), out);
            }
        };
        for (at, (key, value)) in self.entries.iter().enumerate() {
            let entry = base.and_then(|base| entry_span(base, key, value));
            if let (Some((start, end)), Some((key_at, entry_end)), Some(base)) = (run, entry, base)
                && key_at == end + 1
                && base.as_bytes().get(end) == Some(&b',')
            {
                run = Some((start, entry_end));
                continue;
            }
            flush(run.take(), out);
            if at > 0 {
                out.push(',');
            }
            if entry.is_some() {
                run = entry;
                continue;
            }
            out.push_str(key);
            out.push(':');
            value.write_with(out, text);
        }
        flush(run, out);
        out.push('}');
    }
}

/// Where an entry whose value is text as it came lies in `base`, when it is written there as
/// `"key":value`.
fn entry_span(base: &str, key: &str, value: &Node<'_>) -> Option<(usize, usize)> {
    let value = value.text()?;
    let (key_start, key_end) = span_in(base, key)?;
    let (value_start, value_end) = span_in(base, value)?;
    (value_start == key_end + 1 && base.as_bytes().get(key_end) == Some(&b':'))
        .then_some((key_start, value_end))
}

/// Writes a part of a record's text as it came.
pub fn as_it_came(part: &str, out: &mut String) {
    out.push_str(part);
}

/// How the text that came with a record is written out: as it is, or with its date-times
/// rewritten. Any `Fn(part, out)` is one.
pub trait WriteText {
    fn write_text(&self, part: &str, out: &mut String);

    /// The text every part written is a slice of, when there is one: entries side by side in
    /// it are then written as one part.
    fn base(&self) -> Option<&str> {
        None
    }
}

impl<F: Fn(&str, &mut String)> WriteText for F {
    fn write_text(&self, part: &str, out: &mut String) {
        self(part, out);
    }
}

/// `write`, for records whose text came as parts of `base`.
pub struct InBase<'t, F> {
    pub base: &'t str,
    pub write: F,
}

impl<F: Fn(&str, &mut String)> WriteText for InBase<'_, F> {
    fn write_text(&self, part: &str, out: &mut String) {
        (self.write)(part, out);
    }

    fn base(&self) -> Option<&str> {
        Some(self.base)
    }
}

/// An object to take apart with the object it sits in, by its key, and the objects within it
/// to take apart too; or, with `items`, a list whose objects are taken apart (each with `inner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub key: &'static str,
    pub inner: Vec<Opening>,
    pub items: bool,
}

impl Opening {
    /// The openings that reach the objects at these JSON pointers (`/fields/comment`).
    pub fn to(pointers: impl IntoIterator<Item = &'static str>) -> Vec<Opening> {
        Opening::to_objects_and_lists(pointers, [])
    }

    /// `to`, with the lists at the pointers `lists` reached too, their objects taken apart.
    pub fn to_objects_and_lists(
        objects: impl IntoIterator<Item = &'static str>,
        lists: impl IntoIterator<Item = &'static str>,
    ) -> Vec<Opening> {
        let mut top: Vec<Opening> = Vec::new();
        let pointers = objects.into_iter().map(|p| (p, false));
        for (pointer, items) in pointers.chain(lists.into_iter().map(|p| (p, true))) {
            let mut level = &mut top;
            let mut keys = pointer.split('/').skip(1).peekable();
            while let Some(key) = keys.next() {
                let at = match level.iter().position(|o| o.key == key) {
                    Some(at) => at,
                    None => {
                        level.push(Opening {
                            key,
                            inner: Vec::new(),
                            items: false,
                        });
                        level.len() - 1
                    }
                };
                if keys.peek().is_none() {
                    level[at].items |= items;
                }
                level = &mut level[at].inner;
            }
        }
        top
    }
}

/// Where a taken-apart object's entries sit in its text, kept apart from the text: a record
/// taken apart once can be put back together later without scanning it again. One flat list,
/// depth first (one allocation for a whole record, however many objects it opens): an object's
/// entries, each followed by the marks of what its value was taken apart into.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// How many entries the top object has.
    entries: u32,
    marks: Vec<Mark>,
}

/// Where a part lies in a text: its first byte and the byte past it.
pub type Span = (u32, u32);

/// One mark of a `Layout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// An entry whose value is text as it came.
    Text { key: Span, value: Span },
    /// An entry whose value is an object of `entries` entries; its `marks` marks follow.
    Object { key: Span, entries: u32, marks: u32 },
    /// An entry whose value is a list of `len` items; the `objects` among them follow, each an
    /// `Item`, in `marks` marks.
    List {
        key: Span,
        value: Span,
        len: u32,
        objects: u32,
        marks: u32,
    },
    /// An object in a list, of `entries` entries; its `marks` marks follow.
    Item { entries: u32, marks: u32 },
}

/// A span as a `Layout` keeps it; `None` past 4 GiB.
pub(crate) fn span(start: usize, end: usize) -> Option<Span> {
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

/// The count of marks written since `start`, for the mark at `start` that heads them.
pub(crate) fn marks_since(marks: &[Mark], start: usize) -> Option<u32> {
    u32::try_from(marks.len().checked_sub(start + 1)?).ok()
}

impl Layout {
    /// A layout of the top object's `entries` entries, and the marks that place them.
    pub(crate) fn from_marks(entries: u32, marks: Vec<Mark>) -> Layout {
        Layout { entries, marks }
    }

    /// The layout of `object`, whose text all lies in `base`; `None` when some of it was built.
    pub fn of(object: &RawObject<'_>, base: &str) -> Option<Layout> {
        let mut marks = Vec::new();
        let entries = mark_object(object, base, &mut marks)?;
        Some(Layout { entries, marks })
    }

    /// The object back from its text; `None` when the layout is not of this text.
    pub fn apply<'a>(&self, base: &'a str) -> Option<RawObject<'a>> {
        read_in_order(base);
        let (object, rest) = apply_entries(&self.marks, self.entries, base, true)?;
        rest.is_empty().then_some(object)
    }

    /// `apply`, with lists as text and their length only, their objects left out: for what
    /// needs to know about the lists, not read them.
    pub fn apply_without_items<'a>(&self, base: &'a str) -> Option<RawObject<'a>> {
        read_in_order(base);
        let (object, rest) = apply_entries(&self.marks, self.entries, base, false)?;
        rest.is_empty().then_some(object)
    }
}

/// Reads `text` once from start to end, a byte of each cache line. A record's text was written by
/// the thread that reads pages, on the other core: putting it back together touches it at
/// scattered places, each a cache miss, where a reading in order is one the processor fetches
/// ahead of (perf: the writing thread's time putting records back and copying them fell from
/// 11.7% to 9.3%, this reading included).
#[inline(never)]
fn read_in_order(text: &str) {
    let mut any = 0u8;
    for &byte in text.as_bytes().iter().step_by(64) {
        any ^= byte;
    }
    std::hint::black_box(any);
}

/// Writes the marks of `object`'s entries (whose text lies in `base`); answers how many.
fn mark_object(object: &RawObject<'_>, base: &str, marks: &mut Vec<Mark>) -> Option<u32> {
    let at = |part: &str| {
        let (start, end) = span_in(base, part)?;
        span(start, end)
    };
    for (key, value) in &object.entries {
        let key = at(key)?;
        match value {
            Node::Text(text) => marks.push(Mark::Text {
                key,
                value: at(text)?,
            }),
            Node::Object(inner) => {
                let head = marks.len();
                marks.push(Mark::Text { key, value: key });
                let entries = mark_object(inner, base, marks)?;
                let count = marks_since(marks, head)?;
                marks[head] = Mark::Object {
                    key,
                    entries,
                    marks: count,
                };
            }
            Node::List(list) => {
                let head = marks.len();
                marks.push(Mark::Text { key, value: key });
                for item in &list.objects {
                    let item_head = marks.len();
                    marks.push(Mark::Item {
                        entries: 0,
                        marks: 0,
                    });
                    let entries = mark_object(item, base, marks)?;
                    let count = marks_since(marks, item_head)?;
                    marks[item_head] = Mark::Item {
                        entries,
                        marks: count,
                    };
                }
                marks[head] = Mark::List {
                    key,
                    value: at(list.text)?,
                    len: u32::try_from(list.len).ok()?,
                    objects: u32::try_from(list.objects.len()).ok()?,
                    marks: marks_since(marks, head)?,
                };
            }
            Node::Owned(_) => return None,
        }
    }
    u32::try_from(object.entries.len()).ok()
}

/// Entries an object put back from its layout has room for beyond its own.
const ADDED_ROOM: usize = 2;

/// The object of `entries` entries whose marks start `marks`, and the marks after it; lists'
/// objects too when `items`.
fn apply_entries<'a, 'm>(
    mut marks: &'m [Mark],
    entries: u32,
    base: &'a str,
    items: bool,
) -> Option<(RawObject<'a>, &'m [Mark])> {
    let text = |(start, end): Span| base.get(start as usize..end as usize);
    // Room for the few entries the tap adds (a child row's `issueId`, renderings), which would
    // otherwise move the entries to a larger place.
    let mut object = Vec::with_capacity(entries as usize + ADDED_ROOM);
    for _ in 0..entries {
        let (mark, rest) = marks.split_first()?;
        marks = rest;
        match *mark {
            Mark::Text { key, value } => {
                let value = text(value)?;
                push_entry(&mut object, text(key)?, || Node::Text(value))?;
            }
            Mark::Object {
                key,
                entries,
                marks: count,
            } => {
                let (inner, rest) = marks.split_at_checked(count as usize)?;
                marks = rest;
                let (inner, left) = apply_entries(inner, entries, base, items)?;
                if !left.is_empty() {
                    return None;
                }
                push_entry(&mut object, text(key)?, || Node::Object(inner))?;
            }
            Mark::List {
                key,
                value,
                len,
                objects,
                marks: count,
            } => {
                let (mut item_marks, rest) = marks.split_at_checked(count as usize)?;
                marks = rest;
                let objects = if items { objects } else { 0 };
                let mut list = Vec::with_capacity(objects as usize);
                for _ in 0..objects {
                    let (&Mark::Item { entries, marks }, rest) = item_marks.split_first()? else {
                        return None;
                    };
                    let (inner, rest) = rest.split_at_checked(marks as usize)?;
                    item_marks = rest;
                    let (item, left) = apply_entries(inner, entries, base, items)?;
                    if !left.is_empty() {
                        return None;
                    }
                    list.push(item);
                }
                let list = RawList {
                    text: text(value)?,
                    objects: list,
                    len: len as usize,
                };
                push_entry(&mut object, text(key)?, || Node::List(Box::new(list)))?;
            }
            Mark::Item { .. } => return None,
        }
    }
    Some((RawObject { entries: object }, marks))
}

/// Adds an entry to an object being put back, which has room for all its entries. The value is
/// made once room is checked, in the push, where it is written: made first and pushed after, it
/// was copied through the stack and read back wider than it had been written there (a
/// store-forwarding stall per entry; putting records back takes a third less time).
#[inline(always)]
fn push_entry<'a>(
    object: &mut Vec<(&'a str, Node<'a>)>,
    key: &'a str,
    value: impl FnOnce() -> Node<'a>,
) -> Option<()> {
    if object.len() == object.capacity() {
        return None;
    }
    object.push((key, value()));
    Some(())
}

/// Where `part`, a slice of `base`, lies in it; `None` when it is not a slice of `base`.
pub fn span_in(base: &str, part: &str) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= base.len()).then_some((start, end))
}

/// The value of `key` in an object's text, scanning no further than that entry.
fn find<'a>(object: &'a str, key: &str) -> Option<&'a str> {
    let b = object.as_bytes();
    let mut found = None;
    walk_object(object, skip_ws(b, 0), |this, at| {
        let end = value_end(b, at)?;
        if key_is(this, key) {
            found = Some(object.get(at..end)?);
            return Some(None);
        }
        Some(Some(end))
    })?;
    found
}

/// Walks a JSON object's text from `at` (its `{`): `entry` sees each key (its JSON token, quotes
/// included) and where its value starts, and answers the index just past the value, `Some(None)`
/// to stop, or `None` when the value is not JSON. `None` when the text is not an object;
/// `Some(None)` when `entry` stopped the walk; otherwise the index just past the object.
fn walk_object<'a>(
    text: &'a str,
    mut at: usize,
    mut entry: impl FnMut(&'a str, usize) -> Option<Option<usize>>,
) -> Option<Option<usize>> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_ws(b, at + 1);
    if b.get(at) == Some(&b'}') {
        return Some(Some(at + 1));
    }
    loop {
        if b.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, at + 1)?.0 + 1;
        let key = text.get(at..key_end)?;
        at = skip_ws(b, key_end);
        if b.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(b, at + 1);
        let Some(value_end) = entry(key, at)? else {
            return Some(None);
        };
        at = skip_ws(b, value_end);
        match b.get(at) {
            Some(b',') => at = skip_ws(b, at + 1),
            Some(b'}') => return Some(Some(at + 1)),
            _ => return None,
        }
    }
}

/// The items of a JSON array's text; `None` when it is not an array.
pub fn array_items(text: &str) -> Option<Vec<&str>> {
    let b = text.as_bytes();
    let mut items = Vec::new();
    walk_array(text, |at| {
        let end = value_end(b, at)?;
        items.push(text.get(at..end)?);
        Some(end)
    })?;
    Some(items)
}

/// The objects of a JSON array's text, taken apart as the array is read; items that are not
/// objects are left out. `None` when the text is not an array.
pub fn array_objects(text: &str) -> Option<Vec<RawObject<'_>>> {
    let at = skip_ws(text.as_bytes(), 0);
    Some(list_objects(text, at, &[], &mut |_| {})?.0.objects)
}

/// The list at `at` in `text`, its objects taken apart with the objects `opening` names (as
/// `array_objects` gives them), and the index past it.
fn list_objects<'a>(
    text: &'a str,
    at: usize,
    opening: &[Opening],
    seen: &mut impl FnMut(StringValue),
) -> Option<(RawList<'a>, usize)> {
    let b = text.as_bytes();
    let mut objects = Vec::new();
    let mut len = 0;
    let end = walk_array_at(text, at, |at| {
        len += 1;
        if b.get(at) != Some(&b'{') {
            return value_end_seeing(b, at, seen);
        }
        let (object, end) = RawObject::parse_at(text, at, opening, seen)?;
        objects.push(object);
        Some(end)
    })?;
    let text = text.get(at..end)?;
    Some((RawList { text, objects, len }, end))
}

/// Walks a JSON array's text: `item` reads the value starting at an index and answers the index
/// just past it. `None` when the text is not an array.
fn walk_array(text: &str, item: impl FnMut(usize) -> Option<usize>) -> Option<()> {
    walk_array_at(text, skip_ws(text.as_bytes(), 0), item).map(|_| ())
}

/// `walk_array` for the array at `at`, answering the index past it.
fn walk_array_at(
    text: &str,
    mut at: usize,
    mut item: impl FnMut(usize) -> Option<usize>,
) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'[') {
        return None;
    }
    at = skip_ws(b, at + 1);
    if b.get(at) == Some(&b']') {
        return Some(at + 1);
    }
    loop {
        at = skip_ws(b, item(at)?);
        match b.get(at) {
            Some(b',') => at = skip_ws(b, at + 1),
            Some(b']') => return Some(at + 1),
            _ => return None,
        }
    }
}

/// The value of `key` in an object's text (`None` when the text is not an object).
pub fn field<'a>(object: &'a str, key: &str) -> Option<&'a str> {
    find(object, key)
}

/// `text` as a JSON string literal, escaped as serde_json escapes it.
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    // The bytes to escape are found sixteen at a time, and the runs between them copied whole.
    let mut copied = 0;
    while let Some(at) = next_special(text.as_bytes(), copied) {
        // Every byte escaped is ASCII, so `at` is a character boundary.
        out.push_str(&text[copied..at]);
        match text.as_bytes()[at] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            byte => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
        copied = at + 1;
    }
    out.push_str(&text[copied..]);
    out.push('"');
}

/// A JSON string's text, unescaped (`Value::as_str`).
pub fn as_str(text: &str) -> Option<Cow<'_, str>> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str(text).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A JSON number's text as a `u64` (`Value::as_u64`: no sign, fraction or exponent).
pub fn as_u64(text: &str) -> Option<u64> {
    text.parse().ok()
}

/// An id Jira writes as a string or a number, as text (`streams::id_text`).
pub fn id_text(text: &str) -> Option<String> {
    if text.starts_with('"') {
        return as_str(text).map(Cow::into_owned);
    }
    crate::streams::id_text(&serde_json::from_str(text).ok()?)
}

/// `token`, a JSON string token as a text has it, when it is exactly `text` in quotes (no escape
/// in it): what `Node::string(text)` would write, already written.
pub fn plain_string_token<'a>(token: &'a str, text: &str) -> Option<&'a str> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    (inner == text).then_some(token)
}

/// The objects of a list of JSON values, taken apart; values that are not objects are left out.
pub fn objects(items: &[RawRecord]) -> Vec<RawObject<'_>> {
    items
        .iter()
        .filter_map(|item| RawObject::parse(item.get()))
        .collect()
}

/// Whether a key token (quotes included) names `key`.
fn key_is(token: &str, key: &str) -> bool {
    let (t, k) = (token.as_bytes(), key.as_bytes());
    let Some(inner) = t.get(1..t.len().saturating_sub(1)) else {
        return key_name(token) == key;
    };
    // An escape makes a key's text longer than its name: most keys are told apart by their
    // length alone, and many of the rest (`customfield_10011`, `customfield_10036`) by their last
    // byte, without comparing the whole.
    if inner.len() <= k.len() {
        return inner.len() == k.len() && inner.last() == k.last() && inner == k && !has_escape(k);
    }
    // Longer, it matches only through an escape; one that starts elsewhere, with a character
    // other than the name's first, cannot.
    if inner.first() != Some(&b'\\') && inner.first() != k.first() || !has_escape(inner) {
        return false;
    }
    key_name(token) == key
}

/// A key token's name, unescaped.
pub fn key_name(token: &str) -> Cow<'_, str> {
    match token.get(1..token.len().saturating_sub(1)) {
        Some(inner) if !has_escape(inner.as_bytes()) => Cow::Borrowed(inner),
        _ => Cow::Owned(serde_json::from_str(token).unwrap_or_default()),
    }
}

/// Whether a key has an escape. Keys are short: a fold over their bytes, which needs no call and
/// vectorises, costs less than a search set up for long texts.
#[inline]
pub(crate) fn has_escape(key: &[u8]) -> bool {
    key.iter().fold(false, |found, &b| found | (b == b'\\'))
}

fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The index of the quote closing a string whose content starts at `from`, and whether the
/// string has escapes.
#[inline]
pub(crate) fn string_end(b: &[u8], mut from: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        let found = from + memchr2(b'"', b'\\', b.get(from..)?)?;
        match b[found] {
            b'"' => return Some((found, escaped)),
            b'\\' => {
                escaped = true;
                from = found + 2;
            }
            // memchr2 finds nothing else.
            _ => from = found + 1,
        }
    }
}

/// A string value of a text being taken apart: where its quotes are, and whether it has escapes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StringValue {
    pub open: usize,
    pub close: usize,
    pub escaped: bool,
}

/// Strings shorter than this are not shown to a `seen` callback: no date-time is.
pub(crate) const SEEN_MIN_LEN: usize = 24;

/// The index just past the value starting at `at`.
fn value_end(b: &[u8], at: usize) -> Option<usize> {
    value_end_seeing(b, at, &mut |_| {})
}

/// `value_end`, showing `seen` the string values of at least `SEEN_MIN_LEN` bytes within.
fn value_end_seeing(b: &[u8], at: usize, seen: &mut impl FnMut(StringValue)) -> Option<usize> {
    // A string longer than the shortest date-time, and not a key (which a colon follows).
    let mut string = |open: usize| -> Option<usize> {
        let (close, escaped) = string_end(b, open + 1)?;
        if close - open > SEEN_MIN_LEN && b.get(skip_ws(b, close + 1)) != Some(&b':') {
            seen(StringValue {
                open,
                close,
                escaped,
            });
        }
        Some(close)
    };
    match b.get(at)? {
        b'"' => Some(string(at)? + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match b.get(i)? {
                    b'"' => i = string(i)?,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = b
                .get(at..)?
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(b.len() - at);
            (len > 0).then_some(at + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(o: &RawObject<'_>) -> String {
        let mut out = String::new();
        o.write_to(&mut out);
        out
    }

    #[test]
    fn an_object_comes_apart_and_back_in_order() {
        let s = r#" { "a" : 1, "b":{"c":[1,{"d":"}]\"x"}]},"e":null ,"f":-1.5e3,"g":"x\\"} "#;
        let o = RawObject::parse(s).unwrap();
        assert_eq!(
            text(&o),
            r#"{"a":1,"b":{"c":[1,{"d":"}]\"x"}]},"e":null,"f":-1.5e3,"g":"x\\"}"#
        );
        assert!(o.get("e").unwrap().is_null());
        assert_eq!(o.get("f").unwrap().text(), Some("-1.5e3"));
        assert_eq!(RawObject::parse("{}").unwrap(), RawObject::default());
        for bad in [
            "[1]",
            "{\"a\" 1}",
            "{\"a\":1",
            "{\"a\":\"x}",
            "",
            "{\"a\":}",
        ] {
            assert_eq!(RawObject::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn entries_are_removed_inserted_and_reached_by_pointer() {
        let s = r#"{"id":"1","fields":{"comment":{"comments":[{"id":"5"}],"total":3,"y":0},"x":2},"issueId":9}"#;
        let mut o = RawObject::parse(s).unwrap();
        let comment = o.pointer_mut("/fields/comment").unwrap();
        let list = comment.remove("comments").unwrap();
        assert_eq!(
            array_items(list.text().unwrap()).unwrap(),
            vec![r#"{"id":"5"}"#]
        );
        o.insert("\"issueId\"", Node::string("1"));
        o.insert("\"updated\"", Node::Text("2"));
        assert_eq!(
            text(&o),
            r#"{"id":"1","fields":{"comment":{"y":0,"total":3},"x":2},"issueId":"1","updated":2}"#
        );
        let untouched = RawObject::parse(s).unwrap();
        assert_eq!(untouched.pointer("/fields/comment/total"), Some("3"));
        assert_eq!(o.pointer("/fields/comment/total"), Some("3"));
        assert_eq!(o.pointer("/fields/x"), Some("2"));
        assert!(o.pointer("/fields/nope/total").is_none());
        assert!(o.pointer_mut("/id").is_none(), "a string is not an object");
    }

    #[test]
    fn a_layout_puts_an_object_back_without_scanning() {
        let s = r#"{"id":"1","fields":{"a":{"b":2},"c":[3]},"x":null}"#;
        let mut o = RawObject::parse(s).unwrap();
        o.object_mut("fields");
        assert_eq!(
            RawObject::parse_opening(s, &Opening::to(["/fields"])).unwrap(),
            o
        );
        assert_eq!(
            RawObject::parse_opening(s, &Opening::to(["/id"])).unwrap(),
            RawObject::parse(s).unwrap(),
            "a value that is not an object stays text"
        );
        let mut deeper = o.clone();
        deeper.pointer_mut("/fields/a");
        let opening = Opening::to(["/fields/a", "/x", "/fields"]);
        assert_eq!(opening.len(), 2, "{opening:?}");
        assert_eq!(RawObject::parse_opening(s, &opening).unwrap(), deeper);
        assert_eq!(deeper.pointer_then("/fields/a", "b"), Some("2"));
        assert_eq!(o.pointer_then("/fields/a", "b"), Some("2"));
        let layout = Layout::of(&o, s).unwrap();
        assert_eq!(layout.apply(s).unwrap(), o);
        assert_eq!(text(&layout.apply(s).unwrap()), s);
        assert_eq!(layout.apply("{}"), None, "not its text");
        o.insert("\"y\"", Node::string("built"));
        assert_eq!(Layout::of(&o, s), None);
        assert_eq!(Layout::of(&o, "other"), None);
    }

    #[test]
    fn lists_come_apart_into_their_objects() {
        let s = r#"{"fields":{"c":{"total":3,"list":[{"a":{"b":1}},2,{"a":3}]}},"x":[{"y":1}]}"#;
        let opening = Opening::to_objects_and_lists(
            ["/fields/c", "/fields/c/list/a"],
            ["/fields/c/list", "/x"],
        );
        let o = RawObject::parse_opening(s, &opening).unwrap();
        let Some(Node::List(list)) = o.node_at("/fields/c/list") else {
            panic!("not taken apart: {o:?}");
        };
        assert_eq!(list.text, r#"[{"a":{"b":1}},2,{"a":3}]"#);
        assert_eq!(list.len, 3, "the number too");
        assert_eq!(
            list.objects,
            raw_objects(list.text),
            "as array_objects gives them"
        );
        assert!(
            list.objects[0]
                .get("a")
                .is_some_and(|a| matches!(a, Node::Object(_)))
        );
        assert_eq!(o.pointer_then("/fields/c", "total"), Some("3"));
        assert!(matches!(o.get("x"), Some(Node::List(x)) if x.len == 1));
        let layout = Layout::of(&o, s).unwrap();
        assert_eq!(layout.apply(s).unwrap(), o);
        assert_eq!(text(&o), s);
        let shallow = layout.apply_without_items(s).unwrap();
        let Some(Node::List(list)) = shallow.node_at("/fields/c/list") else {
            panic!("no list: {shallow:?}");
        };
        assert_eq!(
            (list.text, list.len, list.objects.len()),
            (r#"[{"a":{"b":1}},2,{"a":3}]"#, 3, 0)
        );
        assert_eq!(text(&shallow), s);
        assert_eq!(o.node_at("/fields/c/total").and_then(Node::text), Some("3"));
        assert_eq!(
            o.node_at("/x/y"),
            None,
            "a list is not an object on the way"
        );
    }

    /// `array_objects`, each object's own objects taken apart as the opening above takes them.
    fn raw_objects(text: &str) -> Vec<RawObject<'_>> {
        let mut objects = array_objects(text).unwrap();
        objects[0].object_mut("a");
        objects
    }

    #[test]
    fn entries_side_by_side_in_their_text_are_written_as_one_part() {
        let s = r#"{"a":1,"b":{"c":"d"},"e" : [2],"f":"g","h":null,"i":3}"#;
        let opening = Opening::to(["/b"]);
        let mut o = RawObject::parse_opening(s, &opening).unwrap();
        o.remove("h");
        o.insert("\"j\"", Node::string("k"));
        let parts = std::cell::RefCell::new(Vec::new());
        let seen = InBase {
            base: s,
            write: |part: &str, out: &mut String| {
                parts.borrow_mut().push(part.to_string());
                out.push_str(part);
            },
        };
        let mut joined = String::new();
        o.write_with(&mut joined, &seen);
        // The same text as entry by entry.
        assert_eq!(joined, text(&o));
        assert_eq!(
            joined,
            r#"{"a":1,"b":{"c":"d"},"e":[2],"f":"g","i":3,"j":"k"}"#
        );
        // A run breaks at an object taken apart, at whitespace, at an entry removed, and at
        // what the tap built; the nested object's entry is a run of its own.
        assert_eq!(
            parts.into_inner(),
            [r#""a":1"#, r#""c":"d""#, "[2]", r#""f":"g""#, r#""i":3"#]
        );
    }

    #[test]
    fn escaped_keys_are_matched_by_name() {
        let mut o = RawObject::parse(r#"{"a\u0062":1,"c":2}"#).unwrap();
        assert_eq!(o.get("ab").unwrap().text(), Some("1"));
        o.retain(|key, _| key == "ab");
        assert_eq!(text(&o), r#"{"a\u0062":1}"#);
        // `"a\b"` is `a` and a backspace, though its text is the name `a\b`.
        let o = RawObject::parse(r#"{"a\b":2,"a\\b":1,"ab":3}"#).unwrap();
        assert_eq!(
            o.get("a\\b").unwrap().text(),
            Some("1"),
            "a backslash in the name"
        );
        assert_eq!(o.get("a\u{8}").unwrap().text(), Some("2"));
        assert_eq!(o.get("ab").unwrap().text(), Some("3"));
        assert!(o.get("a").is_none() && o.get("abc").is_none());
        // Longer than the name: the same only through an escape, wherever it starts.
        let o = RawObject::parse(r#"{"x\u0062":1,"\u0061b":2,"abc":3}"#).unwrap();
        assert_eq!(o.get("xb").unwrap().text(), Some("1"));
        assert_eq!(o.get("ab").unwrap().text(), Some("2"));
        assert!(o.get("b").is_none() && o.get("").is_none() && o.get("x").is_none());
    }

    #[test]
    fn scalars_read_like_values() {
        assert_eq!(as_str(r#""a\"b""#).unwrap(), "a\"b");
        assert_eq!(as_str(r#""ab""#).unwrap(), "ab");
        assert_eq!(as_str("1"), None);
        assert_eq!(as_u64("12"), Some(12));
        assert_eq!(as_u64("1.0"), None);
        assert_eq!(as_u64("-1"), None);
        assert_eq!(id_text(r#""10001""#).as_deref(), Some("10001"));
        assert_eq!(id_text("10001").as_deref(), Some("10001"));
        assert_eq!(id_text("null"), None);
        assert_eq!(
            plain_string_token(r#""10001""#, "10001"),
            Some(r#""10001""#)
        );
        assert_eq!(plain_string_token(r#""1000\u0031""#, "10001"), None);
        assert_eq!(plain_string_token("10001", "10001"), None);
        assert_eq!(field(r#"{"a":{"b":1},"c":[2]}"#, "c"), Some("[2]"));
        assert_eq!(field("[1]", "c"), None);
    }

    #[test]
    fn arrays_split_into_items() {
        assert_eq!(
            array_items(r#"[ 1 , "a,]" ,{"b":[2]}, null]"#).unwrap(),
            vec!["1", r#""a,]""#, r#"{"b":[2]}"#, "null"]
        );
        assert_eq!(array_items("[]").unwrap(), Vec::<&str>::new());
        assert_eq!(array_items("{}"), None);
        assert_eq!(array_items("[1,"), None);
        let objects = array_objects(r#"[{"a":[1]}, 2, {}, "{"]"#).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(text(&objects[0]), r#"{"a":[1]}"#);
        assert_eq!(text(&objects[1]), "{}");
        assert_eq!(array_objects("[{},"), None);
        assert_eq!(array_objects("{}"), None);
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        let mut out = String::new();
        push_json_string(&mut out, "é\"\\\n\u{1}x");
        assert_eq!(out, r#""é\"\\\n\u0001x""#);
        assert_eq!(
            serde_json::from_str::<String>(&out).unwrap(),
            "é\"\\\n\u{1}x"
        );
        // Byte for byte as serde_json writes them, every ASCII character included, at every
        // place a block of sixteen may start.
        let all: String = (0u8..0x80)
            .map(char::from)
            .chain(['é', '€', '😀'])
            .collect();
        for from in 0..=all.len() {
            let Some(text) = all.get(from..) else {
                continue;
            };
            let Node::Owned(built) = Node::string(text) else {
                panic!("a string is built");
            };
            assert_eq!(built, serde_json::to_string(text).unwrap());
        }
    }
}
