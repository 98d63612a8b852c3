//! Jira's pagination styles, and one function that walks any of them as a stream of pages.

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use futures::Stream;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::{ApiRequest, JiraClient, PageReader, RawRecord, Received, SplitBody, split};
use crate::error::{Error, Result};

/// How an endpoint pages. The records sit under `items` (a key, or a JSON pointer when it starts
/// with `/`), or the body is a bare array when `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// One response holds everything; an object may leave its list out (an issue's voters and
    /// watchers the account may not see): read as empty.
    Single { items: Option<&'static str> },
    /// One response holds everything, under a key the object always has (`[]` for none): link
    /// types, Server's groups picker, permission schemes and grants, security schemes.
    Object { items: &'static str },
    /// The body is a single object: one record.
    One,
    /// `startAt`/`maxResults`, ending on `isLast`, on `startAt + n >= total`, or on an empty page —
    /// never on a short page, since Jira caps pages below what was asked. A page that says it is
    /// not the last is followed from past its `maxResults`, empty or short (the agile API leaves
    /// out what the account may not see after cutting the page). A page after a whole one is
    /// asked from one row before, the last one read, which tells a list that moved (see `pages`).
    Offset { items: Option<&'static str> },
    /// `offset`/`limit` (the audit log), ending like `Offset`.
    OffsetLimit { items: &'static str },
    /// `nextPageToken`, ending when the token is absent or `isLast` is true.
    Token { items: &'static str },
    /// `cursor`, given as `nextCursor` (Data Center's `user/list`), ending like `Token`.
    Cursor { items: &'static str },
}

/// One page of records: as JSON text by default, so a page held costs about its size in the
/// body; or as values, for streams that look inside every record.
#[derive(Debug)]
pub struct Page<T = RawRecord> {
    pub items: Vec<T>,
    /// The list holds fewer records than the total beside it and has no further pages: the rest
    /// cannot be read. Or, on a page of no records, an offset list moved while it was paged: a
    /// row may have been missed.
    pub cut_short: bool,
}

impl<T> Page<T> {
    /// The page says an offset list moved while it was paged: a row may have been missed.
    pub fn moved(&self) -> bool {
        self.cut_short && self.items.is_empty()
    }
}

enum Cursor {
    Start,
    Offset(u64),
    Token(String),
}

/// A page body above this is heavy: the next page is asked smaller, to about half of it.
const HEAVY_PAGE_BYTES: usize = 4 << 20;

/// What a field is taken to cost in an issue before any page has been read: more than a field
/// Jira leaves empty (`"customfield_10123":null`), less than most it fills.
const FIELD_BYTES: usize = 100;

/// The page size to ask for: the configured one, cut after a heavy page to what would have kept
/// it near half of `HEAVY_PAGE_BYTES` (busy issues carry long lists, a site with thousands of
/// custom fields gives issues of a megabyte, and pages are held while their children are read),
/// and grown back after light ones to what would fill three quarters of it, so a run of heavy
/// pages costs the memory of a few light ones, and light pages are not asked many times over.
#[derive(Debug, Clone, Copy)]
pub struct PageSize {
    largest: u32,
    now: u32,
}

impl From<u32> for PageSize {
    fn from(largest: u32) -> PageSize {
        PageSize::new(largest)
    }
}

impl PageSize {
    pub fn new(largest: u32) -> PageSize {
        PageSize {
            largest,
            now: largest,
        }
    }

    /// For records of `fields` fields each: the first page is asked no larger than such records
    /// would fill at `FIELD_BYTES` a field, so that a site of thousands of custom fields does not
    /// send a first page of a hundred megabytes.
    pub fn for_fields(largest: u32, fields: usize) -> PageSize {
        let each = fields.saturating_mul(FIELD_BYTES);
        PageSize {
            largest,
            now: fitting(HEAVY_PAGE_BYTES / 2, each, largest),
        }
    }

    pub fn get(&self) -> u32 {
        self.now
    }

    /// The size to ask for, at least `rows` where the configured size allows that many.
    pub fn at_least(&self, rows: u64) -> u64 {
        u64::from(self.now).max(rows.min(u64::from(self.largest)))
    }

    /// Takes the page just read, `bytes` long with `records` records, into account.
    pub fn after(&mut self, bytes: usize, records: usize) {
        let fit = |target: usize, each: usize| fitting(target, each, self.largest);
        match bytes.checked_div(records) {
            Some(each) if bytes > HEAVY_PAGE_BYTES => self.now = fit(HEAVY_PAGE_BYTES / 2, each),
            Some(each) if bytes < HEAVY_PAGE_BYTES / 2 => {
                self.now = self.now.max(fit(HEAVY_PAGE_BYTES / 4 * 3, each));
            }
            Some(_) => {}
            // No record in it: what weighs is not the rows.
            None if bytes > HEAVY_PAGE_BYTES => self.now = (self.now / 2).max(1),
            None if bytes < HEAVY_PAGE_BYTES / 4 => {
                self.now = self.now.saturating_mul(2).min(self.largest);
            }
            None => {}
        }
    }
}

/// How many records of `each` bytes fill `target` bytes: one at least, `largest` at most.
fn fitting(target: usize, each: usize, largest: u32) -> u32 {
    (target / each.max(1)).clamp(1, largest.max(1) as usize) as u32
}

/// Walks every page of `request`. A page is fetched only when the previous one has been consumed,
/// so memory holds one page at a time.
///
/// An offset list that loses a row before the page being read (deleted in Jira meanwhile) moves
/// every later row one place back: the row at the page boundary falls into the page already read
/// and is never listed. So the next page is asked from the last row read, which must come first
/// (and is not passed on twice); when another row does, the list moved and a page `cut_short`
/// with no records says so (a pass that activates a version would drop the row unread).
pub fn pages<T: DeserializeOwned + 'static>(
    client: &JiraClient,
    request: ApiRequest,
    pagination: Pagination,
    page_size: impl Into<PageSize>,
) -> impl Stream<Item = Result<Page<T>>> + '_ {
    let mut size = page_size.into();
    async_stream::try_stream! {
        let mut cursor = Cursor::Start;
        let mut progress = Progress::default();
        // The key of the last row read, when the next page starts right after it.
        let mut last: Option<u64> = None;
        // The key of the first row of the page before.
        let mut first_before: Option<u64> = None;
        let mut moved = false;
        loop {
            let page_size = size.get();
            let mut request = request.clone();
            let start = match cursor { Cursor::Offset(n) => n, _ => 0 };
            let overlap = last.filter(|_| start > 0 && matches!(pagination, Pagination::Offset { .. }));
            // The first row asked for: one before `start` when the last row read is asked again.
            let from = start - u64::from(overlap.is_some());
            match (&pagination, &cursor) {
                (Pagination::Single { .. } | Pagination::Object { .. } | Pagination::One, _) => {}
                (Pagination::Offset { .. }, _) => {
                    request.set_param("startAt", json!(from));
                    // The page size, not one more: an endpoint may refuse more than its maximum
                    // (`group/member` 50) rather than cap it. Two for a page size of one, so a
                    // page brings a row beside the one read again.
                    let asked = match overlap {
                        Some(_) => page_size.max(2),
                        None => page_size,
                    };
                    request.set_param("maxResults", json!(asked));
                }
                (Pagination::OffsetLimit { .. }, cursor) => {
                    let start = match cursor { Cursor::Offset(n) => *n, _ => 0 };
                    request.set_param("offset", json!(start));
                    request.set_param("limit", json!(page_size));
                }
                (Pagination::Token { .. } | Pagination::Cursor { .. }, cursor) => {
                    request.set_param("maxResults", json!(page_size));
                    if let Cursor::Token(token) = cursor {
                        request.set_param(token_keys(pagination).0, json!(token));
                    }
                }
            }
            if pagination == Pagination::One {
                let body = client.send_with(request, |body| serde_json::from_str(body)).await?;
                yield Page { items: vec![body], cut_short: false };
                break;
            }
            let path = request.path.clone();
            let key = body_items_key(pagination);
            let (bytes, body, fingerprint, ends) = client
                .send_page(request, key, |body| {
                    let SplitBody { rest, items, bytes } = split_received(body, key)?;
                    if let (List::Absent, Some(key)) = (&items, key_always_sent(pagination)) {
                        return Err(serde::de::Error::custom(format!(
                            "the page has no list under `{key}` (Jira sends `[]` for none)"
                        )));
                    }
                    let ends = match (&pagination, &items) {
                        (Pagination::Offset { .. }, List::Items(items)) => items
                            .first()
                            .zip(items.last())
                            .map(|(first, last)| (row_key(first.get()), row_key(last.get()))),
                        _ => None,
                    };
                    let (items, fingerprint) = fingerprinted(items)?;
                    Ok((bytes, Body { rest, items }, fingerprint, ends))
                })
                .await?;
            let mut items = body.items.into_items(key, &path)?;
            size.after(bytes, items.len());
            let cut_short = matches!(pagination, Pagination::Single { .. } | Pagination::Object { .. })
                && warn_if_cut_short(&body.rest, items.len(), &path);
            let returned = items.len() as u64;
            let mut next = next_cursor(pagination, &Cursor::Offset(from), &body.rest, returned);
            // The page begins where the one before did: the server ignored `startAt` and repeats
            // rows passed on already, a repeat whatever its fingerprint says.
            let mut repeated = false;
            if let Some(read) = overlap {
                match ends {
                    Some((first, _)) if first == read => {
                        items.remove(0);
                    }
                    Some((first, _)) if first_before == Some(first) => repeated = true,
                    _ if !moved => {
                        moved = true;
                        warn_moved(&path);
                        yield Page { items: Vec::new(), cut_short: true };
                    }
                    _ => {}
                }
                // Nothing past the rows read: the list ends there.
                if matches!(next, Some(Cursor::Offset(n)) if n <= start) {
                    next = None;
                }
            }
            first_before = ends.map(|(first, _)| first);
            last = match (&next, ends) {
                (Some(Cursor::Offset(n)), Some((_, key))) if *n == from + returned => Some(key),
                _ => None,
            };
            // An empty offset page that points further moved past its whole cut (see
            // `next_cursor`): Jira left out every row of it, which is not a stall.
            let emptied = items.is_empty()
                && next.is_some()
                && matches!(pagination, Pagination::Offset { .. } | Pagination::OffsetLimit { .. })
                && matches!(body.rest.get("isLast"), Some(Value::Bool(false)));
            let new = match emptied {
                true => progress.emptied(&path).map(|()| false)?,
                false => progress.judge(fingerprint.filter(|_| !repeated), next.is_some(), &path)?,
            };
            if new && !items.is_empty() {
                yield Page { items, cut_short };
            }
            match next {
                None => break,
                Some(Cursor::Token(token)) => {
                    progress.next_token(&token, &path)?;
                    cursor = Cursor::Token(token);
                }
                Some(other) => cursor = other,
            }
        }
    }
}

/// A list of one page that holds fewer records than the `total` beside it: the rest cannot be
/// paged to, so they are missing, and the log says so. Server's groups picker is such a list,
/// capped by a system property whatever `maxResults` asks. Says whether it was cut short.
fn warn_if_cut_short(rest: &Value, listed: usize, path: &str) -> bool {
    let Some(total) = rest
        .get("total")
        .and_then(Value::as_u64)
        .filter(|total| *total > listed as u64)
    else {
        return false;
    };
    tracing::warn!(
        endpoint = path,
        listed,
        total,
        "Jira listed fewer records than the total it gives, and this list has no further \
             pages: the rest are missing (Server's groups picker lists at most \
             `jira.ajax.autocomplete.limit` groups, 20 by default: raise that system property \
             to list every group)"
    );
    true
}

/// An offset list whose page did not begin with the last row read: a row before it was deleted
/// (or one added) while it was paged, and a row may have moved past the page boundary unread.
/// What the reader does about it, it says.
pub fn warn_moved(path: &str) {
    tracing::warn!(
        endpoint = path,
        "the list changed while it was paged (a row before the page being read was deleted or \
         added): a row may have moved into a page already read and not be listed"
    );
}

/// What tells a row of a list from the others, hashed: its `id`, `accountId` or `key` (the first
/// it has), or all its text. Only compared with the row read last.
fn row_key(record: &str) -> u64 {
    #[derive(Deserialize)]
    struct Keys<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
        #[serde(borrow, rename = "accountId")]
        account_id: Option<&'a RawValue>,
        #[serde(borrow)]
        key: Option<&'a RawValue>,
    }
    let keys = serde_json::from_str::<Keys>(record).ok();
    let key = keys
        .and_then(|k| k.id.or(k.account_id).or(k.key))
        .map_or(record, RawValue::get);
    foldhash::quality::FixedState::default().hash_one(key)
}

/// Pages in a row that bring nothing new before a pager gives up: a server that ignores
/// `startAt`, or hands out fresh tokens for empty pages, would otherwise be paged forever.
const MAX_STALLED_PAGES: u32 = 3;

/// Offset pages in a row emptied of what the account may not see before a pager gives up:
/// 10,000 hidden boards in pages of 50, and a server that says `isLast: false` for ever stops.
const MAX_EMPTIED_PAGES: u32 = 200;

/// Whether paging moves on. A page that repeats the records of any page before is not passed on
/// (its records were), and counts as stalled, like an empty page that still points further: a
/// server that cycles through two pages is stopped as one that repeats one.
#[derive(Debug)]
pub struct Progress {
    /// The fingerprint of every page met, 8 bytes a page.
    seen: HashSet<u64>,
    /// A hash of every page token handed out: a token may be long, and only needs telling apart.
    tokens: HashSet<u64>,
    stalled: u32,
    /// Stalled pages in a row that end paging.
    patience: u32,
    /// Emptied pages in a row (`emptied`).
    emptied: u32,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::patient(MAX_STALLED_PAGES)
    }
}

impl Progress {
    /// A `Progress` that allows `patience` stalled pages in a row: for an endpoint where Jira
    /// may legitimately send empty pages that point further.
    pub fn patient(patience: u32) -> Progress {
        Progress {
            seen: HashSet::new(),
            tokens: HashSet::new(),
            stalled: 0,
            patience,
            emptied: 0,
        }
    }

    /// Takes an offset page that says it is not the last but holds nothing: Jira left out every
    /// row of it. Fails once too many came in a row.
    pub fn emptied(&mut self, path: &str) -> Result<()> {
        self.emptied += 1;
        if self.emptied < MAX_EMPTIED_PAGES {
            return Ok(());
        }
        Err(Error::Shape {
            url: path.to_string(),
            problem: format!(
                "paging does not advance: {} empty pages in a row that are not the last; \
                 stopping instead of looping",
                self.emptied
            ),
        })
    }

    /// Takes one page by its `fingerprint` (`None`: no records) and whether paging goes on after
    /// it; says whether the page is new, or fails once pages have stopped advancing.
    pub fn judge(&mut self, fingerprint: Option<u64>, more: bool, path: &str) -> Result<bool> {
        let new = fingerprint.is_some_and(|f| self.seen.insert(f));
        if new {
            self.stalled = 0;
            self.emptied = 0;
        } else if more {
            self.stalled += 1;
            if self.stalled >= self.patience {
                return Err(Error::Shape {
                    url: path.to_string(),
                    problem: format!(
                        "paging does not advance: {} pages in a row brought no new records (the server \
                         repeats a page or sends empty pages with a next page); stopping instead of looping",
                        self.stalled
                    ),
                });
            }
        }
        Ok(new)
    }

    /// Takes the token of the next page; fails when it was handed out before.
    pub fn next_token(&mut self, token: &str, path: &str) -> Result<()> {
        if self
            .tokens
            .insert(foldhash::quality::FixedState::default().hash_one(token))
        {
            return Ok(());
        }
        Err(Error::Shape {
            url: path.to_string(),
            problem: "Jira returned a nextPageToken (or nextCursor) it had already returned; \
                      stopping instead of looping"
                .into(),
        })
    }
}

/// What tells one page's records from another's, `None` for no records: a hash of every record's
/// length and of the first and last records' text. A pager that repeats a page repeats all of
/// it; hashing every byte of every page cost a fortieth of a sync's CPU.
pub fn fingerprint<'a>(items: impl IntoIterator<Item = &'a str>) -> Option<u64> {
    // Compared within one run only: a fixed seed will do, and foldhash is faster than SipHash.
    let mut hasher = foldhash::quality::FixedState::default().build_hasher();
    let mut items = items.into_iter();
    let first = items.next()?;
    first.hash(&mut hasher);
    let mut last = None;
    let mut count = 1usize;
    for item in items {
        item.len().hash(&mut hasher);
        last = Some(item);
        count += 1;
    }
    last.hash(&mut hasher);
    count.hash(&mut hasher);
    Some(hasher.finish())
}

/// A body as `send_page` received it, split: already, or now from its text.
fn split_received(body: Received<'_>, key: Option<&str>) -> serde_json::Result<SplitBody> {
    match body {
        Received::Split(split) => Ok(split),
        Received::Text(text) => {
            let (rest, items) = split_page(text, key)?;
            Ok(SplitBody {
                rest,
                items,
                bytes: text.len(),
            })
        }
    }
}

/// Records as texts, fingerprinted, then turned into `T`: records that are kept as text are not
/// copied.
fn fingerprinted<T: DeserializeOwned + 'static>(
    items: List<RawRecord>,
) -> serde_json::Result<(List<T>, Option<u64>)> {
    Ok(match items {
        List::Items(items) => {
            let fingerprint = fingerprint(items.iter().map(RawRecord::get));
            (List::Items(typed(items)?), fingerprint)
        }
        List::Absent => (List::Absent, None),
        List::NotAList => (List::NotAList, None),
    })
}

fn typed<T: DeserializeOwned + 'static>(items: Vec<RawRecord>) -> serde_json::Result<Vec<T>> {
    let any: Box<dyn Any> = Box::new(items);
    match any.downcast::<Vec<T>>() {
        Ok(same) => Ok(*same),
        Err(any) => match any.downcast::<Vec<RawRecord>>() {
            Ok(items) => items
                .into_iter()
                .map(|item| serde_json::from_str(item.get()))
                .collect(),
            Err(_) => Err(serde::de::Error::custom("records of an unexpected type")),
        },
    }
}

/// The list's key when every page has it: Jira's offset pages (page beans, searches, comments,
/// worklogs, the audit log) send `[]` for none, and so do the unpaged objects of `Object`. A 200
/// body without it (a proxy's or an app's `{}`, a glitch) is broken, retried, then an error:
/// taken for an empty page it ended the pass, which was then activated and the rest of the table
/// deleted from the target. Other unpaged objects may leave their list out (votes and watchers
/// the account may not see), and whether `search/jql` does on no issues is not known: those are
/// read as empty, as before. Data Center's `user/list` always lists someone: the account
/// reading it.
fn key_always_sent(pagination: Pagination) -> Option<&'static str> {
    match pagination {
        Pagination::Offset { items } => items,
        Pagination::Object { items }
        | Pagination::OffsetLimit { items }
        | Pagination::Cursor { items } => Some(items),
        Pagination::Single { .. } | Pagination::One | Pagination::Token { .. } => None,
    }
}

fn body_items_key(pagination: Pagination) -> Option<&'static str> {
    match pagination {
        Pagination::Single { items } | Pagination::Offset { items } => items,
        Pagination::Object { items }
        | Pagination::Token { items }
        | Pagination::Cursor { items }
        | Pagination::OffsetLimit { items } => Some(items),
        Pagination::One => None,
    }
}

/// The query parameter that asks a token list for its next page, and the body key that gives
/// the token.
fn token_keys(pagination: Pagination) -> (&'static str, &'static str) {
    match pagination {
        Pagination::Cursor { .. } => ("cursor", "nextCursor"),
        _ => ("nextPageToken", "nextPageToken"),
    }
}

/// One request's page: the records under `items` (see `Pagination`; `None` for a body that is
/// the list), and the body's other top-level keys (`total`, `isLast`, `nextPageToken`, …).
pub async fn read_page<T: DeserializeOwned + 'static>(
    client: &JiraClient,
    request: ApiRequest,
    items: Option<&'static str>,
) -> Result<(Value, Vec<T>)> {
    let path = request.path.clone();
    let (rest, records) = client
        .send_page(request, items, |body| {
            let SplitBody { rest, items, .. } = split_received(body, items)?;
            Ok((rest, items.try_map(typed)?))
        })
        .await?;
    Ok((rest, records.into_items(items, &path)?))
}

/// One request's records under `items`, each turned by `keep` as the page is read (those it gives
/// `None` for are left out), with the body's other top-level keys; a list that is missing or not
/// a list is an empty page. The records are never all JSON values at once.
pub async fn read_page_kept<U>(
    client: &JiraClient,
    request: ApiRequest,
    items: &'static str,
    keep: impl Fn(&RawRecord) -> Option<U>,
) -> Result<(Value, Vec<U>)> {
    client
        .send_page(request, Some(items), |body| {
            let SplitBody { rest, items, .. } = split_received(body, Some(items))?;
            let kept = match items {
                List::Items(records) => records.iter().filter_map(&keep).collect(),
                List::Absent | List::NotAList => Vec::new(),
            };
            Ok((rest, kept))
        })
        .await
}

/// A body read in one pass: the records as the body has them, the other top-level keys as values.
struct Body<T> {
    rest: Value,
    items: List<T>,
}

/// A page body split as the pagers read it: the other top-level keys, and the records under
/// `items` (a key, a JSON pointer starting with `/`, or the whole body when `None`), each copied
/// out as text. Checked and split in one pass (`split`); serde_json reads what that leaves.
pub fn split_page(body: &str, items: Option<&str>) -> serde_json::Result<(Value, List<RawRecord>)> {
    match split_checked(body, items) {
        Some(split) => Ok(split),
        None => split_page_with_serde(body, items),
    }
}

/// `split_page` for one record: its other keys, and the records under `items` within it, taken
/// apart at their top level while they are checked, so that writing them reads them no more.
pub fn split_record(
    record: &RawRecord,
    items: &'static str,
) -> serde_json::Result<(Value, List<RawRecord>)> {
    let mut reader = PageReader::whole(Some(items)).taking_apart(Some(Arc::new([])));
    reader.push(record.get().as_bytes());
    match reader.finish() {
        Ok(split) => Ok((split.rest, split.items)),
        Err(_) => split_page(record.get(), Some(items)),
    }
}

fn split_checked(text: &str, items: Option<&str>) -> Option<(Value, List<RawRecord>)> {
    let path = items.map(path_of).unwrap_or_default();
    let split = split::split(text, &path)?;
    let rest = match items {
        None => Value::Null,
        Some(_) => split::rest_value(text, &split.rest)?,
    };
    let records = match split.items {
        split::Items::List(spans) => List::Items(
            spans
                .into_iter()
                .map(|span| Some(RawRecord::from_string(text.get(span)?.to_string())))
                .collect::<Option<_>>()?,
        ),
        split::Items::Absent => List::Absent,
        split::Items::NotAList => List::NotAList,
    };
    Some((rest, records))
}

/// `split_page` as serde_json reads it: the reference the one-pass split is checked against.
pub fn split_page_with_serde(
    body: &str,
    items: Option<&str>,
) -> serde_json::Result<(Value, List<RawRecord>)> {
    let Body { rest, items } = read_body::<&RawValue>(body, items)?;
    // Records pass through as text: one serde_json would refuse as a value must not go out.
    if split::has_number_out_of_range(body) {
        return Err(serde::de::Error::custom(
            "a number out of range (past a double's)",
        ));
    }
    let records = match items {
        List::Items(items) => List::Items(
            items
                .into_iter()
                .map(|item| RawRecord::from_string(item.get().to_string()))
                .collect(),
        ),
        List::Absent => List::Absent,
        List::NotAList => List::NotAList,
    };
    Ok((rest, records))
}

/// The keys down to the records: one key, or a JSON pointer's.
fn path_of(key: &str) -> Vec<&str> {
    match key.strip_prefix('/') {
        Some(pointer) => pointer.split('/').collect(),
        None => vec![key],
    }
}

fn read_body<'de, T: Deserialize<'de>>(
    body: &'de str,
    items: Option<&str>,
) -> serde_json::Result<Body<T>> {
    let mut de = serde_json::Deserializer::from_str(body);
    let body = match items {
        None => Body {
            rest: Value::Null,
            items: List::deserialize(&mut de)?,
        },
        Some(key) => {
            let path = path_of(key);
            BodySeed {
                path: &path,
                top: true,
                items: PhantomData,
            }
            .deserialize(&mut de)?
        }
    };
    de.end()?;
    Ok(body)
}

/// A list of records as the body has it: a list, nothing (absent or `null`), or something else.
#[derive(Debug, Default)]
pub enum List<T> {
    Items(Vec<T>),
    #[default]
    Absent,
    NotAList,
}

impl<T> List<T> {
    /// The records; a missing list is an empty page (Jira omits empty lists on some endpoints).
    fn into_items(self, key: Option<&str>, path: &str) -> Result<Vec<T>> {
        match (self, key) {
            (List::Items(items), _) => Ok(items),
            (List::Absent, Some(_)) => Ok(Vec::new()),
            (List::Absent | List::NotAList, _) => Err(Error::Shape {
                url: path.to_string(),
                problem: match key {
                    None => "expected a JSON array".into(),
                    Some(key) => format!("expected a list under `{key}`"),
                },
            }),
        }
    }

    /// The list with its records turned by `f`.
    fn try_map<U, E>(
        self,
        f: impl FnOnce(Vec<T>) -> std::result::Result<Vec<U>, E>,
    ) -> std::result::Result<List<U>, E> {
        Ok(match self {
            List::Items(items) => List::Items(f(items)?),
            List::Absent => List::Absent,
            List::NotAList => List::NotAList,
        })
    }

    /// The records, or none when the body has no list there.
    pub fn or_empty(self) -> Vec<T> {
        match self {
            List::Items(items) => items,
            List::Absent | List::NotAList => Vec::new(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        de.deserialize_any(ListVisitor(PhantomData))
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<List<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(List::Items(items))
    }

    fn visit_unit<E>(self) -> std::result::Result<List<T>, E> {
        Ok(List::Absent)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<List<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(List::NotAList)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<List<T>, E> {
        Ok(List::NotAList)
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<List<T>, E> {
        Ok(List::NotAList)
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<List<T>, E> {
        Ok(List::NotAList)
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<List<T>, E> {
        Ok(List::NotAList)
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<List<T>, E> {
        Ok(List::NotAList)
    }
}

/// Reads an object body, going down `path` to the records; the top level's other keys are kept.
/// Below the top, a level that is not an object means there are no records.
struct BodySeed<'p, T> {
    path: &'p [&'p str],
    top: bool,
    items: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for BodySeed<'_, T> {
    type Value = Body<T>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> std::result::Result<Body<T>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for BodySeed<'_, T> {
    type Value = Body<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Body<T>, A::Error> {
        let mut rest = Map::new();
        let mut items = List::Absent;
        while let Some(key) = map.next_key::<String>()? {
            match self.path {
                [only] if key == *only => items = map.next_value()?,
                [first, deeper @ ..] if key == *first => {
                    items = map
                        .next_value_seed(BodySeed {
                            path: deeper,
                            top: false,
                            items: PhantomData,
                        })?
                        .items;
                }
                _ if self.top => {
                    rest.insert(key, map.next_value()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Body {
            rest: Value::Object(rest),
            items,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Body<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.not_an_object())
    }

    fn visit_unit<E>(self) -> std::result::Result<Body<T>, E> {
        Ok(self.not_an_object())
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Body<T>, E> {
        Ok(self.not_an_object())
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Body<T>, E> {
        Ok(self.not_an_object())
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Body<T>, E> {
        Ok(self.not_an_object())
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Body<T>, E> {
        Ok(self.not_an_object())
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Body<T>, E> {
        Ok(self.not_an_object())
    }
}

impl<T> BodySeed<'_, T> {
    fn not_an_object(&self) -> Body<T> {
        Body {
            rest: Value::Null,
            items: if self.top {
                List::NotAList
            } else {
                List::Absent
            },
        }
    }
}

fn next_cursor(pagination: Pagination, cursor: &Cursor, body: &Value, n: u64) -> Option<Cursor> {
    match pagination {
        Pagination::Single { .. } | Pagination::Object { .. } | Pagination::One => None,
        Pagination::Offset { .. } | Pagination::OffsetLimit { .. } => {
            let start = match cursor {
                Cursor::Offset(s) => *s,
                _ => 0,
            };
            let is_last = body.get("isLast").and_then(Value::as_bool);
            let total = body.get("total").and_then(Value::as_u64);
            // A page that says it is not the last was cut from `maxResults` rows before Jira left
            // out those the account may not see (boards): it may come short, or empty, and the
            // next one starts past the whole cut.
            let step = match (is_last, body.get("maxResults").and_then(Value::as_u64)) {
                (Some(false), Some(cut)) => n.max(cut),
                _ => n,
            };
            let done =
                step == 0 || is_last == Some(true) || total.is_some_and(|t| start + step >= t);
            (!done).then_some(Cursor::Offset(start + step))
        }
        Pagination::Token { .. } | Pagination::Cursor { .. } => {
            let token = body
                .get(token_keys(pagination).1)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty());
            let is_last = body.get("isLast").and_then(Value::as_bool) == Some(true);
            match token {
                Some(token) if !is_last => Some(Cursor::Token(token.to_string())),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(p: Pagination, at: u64, body: Value, n: u64) -> Option<u64> {
        match next_cursor(p, &Cursor::Offset(at), &body, n) {
            Some(Cursor::Offset(s)) => Some(s),
            None => None,
            Some(_) => panic!("unexpected cursor"),
        }
    }

    #[test]
    fn offset_advances_by_what_came_back_not_by_what_was_asked() {
        let p = Pagination::Offset {
            items: Some("issues"),
        };
        assert_eq!(next(p, 0, json!({"total": 250}), 100), Some(100));
        assert_eq!(
            next(p, 100, json!({"total": 250}), 37),
            Some(137),
            "a short page is not the end"
        );
        assert_eq!(next(p, 200, json!({"total": 250}), 50), None);
        assert_eq!(next(p, 0, json!({"isLast": true}), 10), None);
        assert_eq!(next(p, 0, json!({"isLast": false}), 10), Some(10));
        assert_eq!(
            next(p, 50, json!({"isLast": false, "maxResults": 50}), 0),
            Some(100),
            "a page emptied of what the account may not see is not the end"
        );
        assert_eq!(
            next(
                p,
                50,
                json!({"isLast": false, "maxResults": 50, "total": 120}),
                20
            ),
            Some(100),
            "nor does the next page start inside it"
        );
        assert_eq!(
            next(p, 0, json!({"maxResults": 50, "total": 250}), 37),
            Some(37)
        );
        assert_eq!(
            next(Pagination::Offset { items: None }, 5, json!([]), 0),
            None,
            "empty bare page ends"
        );
    }

    #[test]
    fn a_row_is_known_by_its_id_account_id_or_key_or_else_by_all_its_text() {
        assert_eq!(
            row_key(r#"{"id": "1", "name": "Web"}"#),
            row_key(r#"{"name": "Web, renamed", "id": "1"}"#),
            "a row edited between two pages is the same row"
        );
        assert_ne!(row_key(r#"{"id": "1"}"#), row_key(r#"{"id": "2"}"#));
        assert_eq!(
            row_key(r#"{"accountId": "a", "displayName": "A"}"#),
            row_key(r#"{"accountId": "a"}"#)
        );
        assert_eq!(
            row_key(r#"{"key": "K", "x": 1}"#),
            row_key(r#"{"key": "K"}"#)
        );
        assert_ne!(row_key(r#"{"name": "a"}"#), row_key(r#"{"name": "b"}"#));
        assert_ne!(row_key("1"), row_key("2"), "not an object: by its text");
    }

    #[test]
    fn heavy_pages_make_the_next_ones_smaller_until_pages_are_light_again() {
        let mut size = PageSize::new(100);
        // 100 records of 60 KB: the next page asks what fills about 2 MiB.
        size.after(100 * 60_000, 100);
        assert_eq!(size.get(), 34);
        // Records of 1.5 MB each (thousands of custom fields): one a page.
        size.after(34 * 1_500_000, 34);
        assert_eq!(size.get(), 1);
        size.after(HEAVY_PAGE_BYTES * 3, 1);
        assert_eq!(size.get(), 1, "never below one record");
        size.after(HEAVY_PAGE_BYTES * 3 / 4, 1);
        assert_eq!(size.get(), 1, "a middling page keeps the size");
        // Records of 100 KB again: as many as fill 3 MiB.
        size.after(100_000, 1);
        assert_eq!(size.get(), 31);
        size.after(1000, 31);
        assert_eq!(size.get(), 100, "never above what was configured");
        size.after(100 * 30_000, 100);
        assert_eq!(size.get(), 100, "a middling page keeps the size");
    }

    #[test]
    fn pages_without_records_halve_or_double() {
        let mut size = PageSize::new(100);
        size.after(HEAVY_PAGE_BYTES * 2, 0);
        assert_eq!(size.get(), 50);
        size.after(HEAVY_PAGE_BYTES / 2, 0);
        assert_eq!(size.get(), 50);
        size.after(10, 0);
        assert_eq!(size.get(), 100);
    }

    #[test]
    fn a_floor_holds_within_the_configured_size() {
        let mut size = PageSize::new(100);
        size.after(10 << 20, 2);
        assert_eq!(
            (size.get(), size.at_least(4), size.at_least(500)),
            (1, 4, 100)
        );
        assert_eq!(
            PageSize::new(2).at_least(4),
            2,
            "never above what was configured"
        );
    }

    #[test]
    fn the_first_page_of_records_of_many_fields_is_asked_smaller() {
        assert_eq!(PageSize::for_fields(100, 120).get(), 100);
        assert_eq!(PageSize::for_fields(100, 1_000).get(), 20);
        assert_eq!(PageSize::for_fields(100, 5_000).get(), 4);
        assert_eq!(PageSize::for_fields(100, 100_000).get(), 1);
        assert_eq!(PageSize::for_fields(50, 0).get(), 50);
        // A first page of 20 issues of 1,000 fields, most of them empty (40 KB an issue): the
        // next ones are as large as fill 3 MiB.
        let mut size = PageSize::for_fields(100, 1_000);
        size.after(20 * 40_000, 20);
        assert_eq!(
            size.get(),
            78,
            "grown after a light page, up to what was configured"
        );
    }

    #[test]
    fn token_stops_when_absent_or_last() {
        let p = Pagination::Token { items: "issues" };
        let token = |body: Value| match next_cursor(p, &Cursor::Start, &body, 1) {
            Some(Cursor::Token(t)) => Some(t),
            _ => None,
        };
        assert_eq!(
            token(json!({"nextPageToken": "a=", "isLast": false})),
            Some("a=".into())
        );
        assert_eq!(token(json!({"nextPageToken": "a=", "isLast": true})), None);
        assert_eq!(token(json!({"isLast": false})), None);
    }

    #[test]
    fn cursor_follows_next_cursor_not_next_page_token() {
        let p = Pagination::Cursor { items: "values" };
        let cursor = |body: Value| match next_cursor(p, &Cursor::Start, &body, 1) {
            Some(Cursor::Token(t)) => Some(t),
            _ => None,
        };
        assert_eq!(
            cursor(json!({"nextCursor": "2000", "isLast": false})),
            Some("2000".into())
        );
        assert_eq!(cursor(json!({"nextCursor": "2000", "isLast": true})), None);
        assert_eq!(
            cursor(json!({"nextPageToken": "a=", "isLast": false})),
            None
        );
    }

    #[test]
    fn a_pager_that_does_not_advance_stops_after_a_few_pages() {
        let print = |texts: &[&str]| fingerprint(texts.iter().copied());
        let mut progress = Progress::default();
        assert_eq!(
            progress.judge(print(&["1", "2"]), true, "p").ok(),
            Some(true)
        );
        assert_eq!(
            progress.judge(print(&["1", "2"]), true, "p").ok(),
            Some(false),
            "a repeated page is not passed on"
        );
        assert_eq!(
            progress.judge(print(&["3"]), true, "p").ok(),
            Some(true),
            "a short new page is progress"
        );
        assert_eq!(
            progress.judge(None, false, "p").ok(),
            Some(false),
            "an empty last page ends"
        );
        assert_eq!(progress.judge(None, true, "p").ok(), Some(false));
        assert_eq!(progress.judge(print(&["3"]), true, "p").ok(), Some(false));
        assert!(
            progress.judge(None, true, "p").is_err(),
            "three stalls in a row"
        );
    }

    #[test]
    fn a_pager_that_cycles_through_pages_stops_and_tokens_are_told_apart_by_hash() {
        let print = |texts: &[&str]| fingerprint(texts.iter().copied());
        let mut progress = Progress::default();
        assert_eq!(progress.judge(print(&["a"]), true, "p").ok(), Some(true));
        assert_eq!(progress.judge(print(&["b"]), true, "p").ok(), Some(true));
        assert_eq!(progress.judge(print(&["a"]), true, "p").ok(), Some(false));
        assert_eq!(progress.judge(print(&["b"]), true, "p").ok(), Some(false));
        assert!(progress.judge(print(&["a"]), true, "p").is_err());
        let long = "t".repeat(1 << 20);
        assert!(progress.next_token(&long, "p").is_ok());
        assert!(progress.next_token("other", "p").is_ok());
        assert!(progress.next_token(&long, "p").is_err());
    }

    #[test]
    fn fingerprinted_records_keep_their_type() {
        let body = r#"{"values": [{"id": "1"}, {"id": "2"}], "isLast": true}"#;
        let read = || split_received(Received::Text(body), Some("values")).unwrap();
        let SplitBody { rest, items, bytes } = read();
        assert_eq!(rest, json!({"isLast": true}));
        assert_eq!(bytes, body.len());
        let (items, print) = fingerprinted::<Value>(items).unwrap();
        assert_eq!(
            items.or_empty(),
            vec![json!({"id": "1"}), json!({"id": "2"})]
        );
        let (raw, raw_print) = fingerprinted::<RawRecord>(read().items).unwrap();
        assert_eq!(raw.or_empty()[1].get(), r#"{"id": "2"}"#);
        assert_eq!(print, raw_print);
        assert!(print.is_some());
        let (_, none) = fingerprinted::<Value>(List::Items(Vec::new())).unwrap();
        assert_eq!(none, None);
    }

    fn items(key: Option<&str>, body: &str) -> Result<Vec<Value>> {
        read_body::<Value>(body, key)
            .unwrap()
            .items
            .into_items(key, "p")
    }

    #[test]
    fn items_under_a_key_or_bare() {
        assert_eq!(
            items(Some("values"), r#"{"values": [1, 2]}"#)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(items(Some("values"), "{}").unwrap().len(), 0);
        assert_eq!(
            items(Some("values"), r#"{"values": null}"#).unwrap().len(),
            0
        );
        assert_eq!(items(None, "[1]").unwrap().len(), 1);
        assert_eq!(
            items(
                Some("/changelog/histories"),
                r#"{"changelog": {"x": {"histories": [0]}, "histories": [1, 2, 3]}}"#
            )
            .unwrap(),
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            items(Some("/changelog/histories"), r#"{"changelog": 5}"#)
                .unwrap()
                .len(),
            0
        );
        assert!(items(None, r#"{"a": 1}"#).is_err());
        assert!(items(Some("values"), r#"{"values": {"a": 1}}"#).is_err());
        assert!(items(Some("values"), "[1]").is_err());
        assert!(read_body::<Value>(r#"{"values": [1}"#, Some("values")).is_err());
    }

    #[test]
    fn records_stay_text_and_the_rest_is_kept() {
        let body =
            r#"{"startAt": 0, "issues": [{"id": "1", "f": [1, 2]}, {"id": "2"}], "isLast": true}"#;
        let (rest, items) = split_page(body, Some("issues")).unwrap();
        assert_eq!(rest, json!({"startAt": 0, "isLast": true}));
        let items = items.into_items(Some("issues"), "p").unwrap();
        let texts: Vec<&str> = items.iter().map(|i| i.get()).collect();
        assert_eq!(texts, vec![r#"{"id": "1", "f": [1, 2]}"#, r#"{"id": "2"}"#]);
    }
}
