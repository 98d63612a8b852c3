//! Fuzzing the parsers of what Jira and users send: page bodies, the raw JSON reader the issue path
//! is built on, the date-time rewriting, the split of an issue into its children's rows, `/field`
//! typing, catalogs and the ADF renderer. The corpus is the real-shaped responses, ADF documents
//! and catalogs under `fixtures/`; each case mutates one, as text (cut, spliced, bytes inserted)
//! or as a tree (a node replaced by anything, deep nesting, hostile strings). Nothing may panic,
//! and where a fast path has a slow twin (raw text against `serde_json::Value`), both must agree.
//!
//! CI runs 64 cases per property (the regressions file first); a long hunt is
//! `FUZZ_CASES=100000 cargo test --release --test fuzz`. Failures proptest finds are kept in
//! `tests/fuzz.proptest-regressions` and replayed first on every run.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use tap_jira::adf::{self, TextStyle};
use tap_jira::catalog::{Catalog, SiteField, TextForm, field_schema, selected_streams};
use tap_jira::client::{List, PageReader, RawRecord, SplitBody, split_page, split_page_with_serde};
use tap_jira::config::Deployment;
use tap_jira::hashing::HashSettings;
use tap_jira::raw::{self, InBase, Opening, RawObject, as_it_came};
use tap_jira::readable::RenderText;
use tap_jira::streams::children::IssueRef;
use tap_jira::streams::issues::{cursor_of, hoist_timestamps};
use tap_jira::streams::{Rows, STREAMS, Source};
use tap_jira::timestamp::{DateSpans, normalize, normalize_json};

/// The seed documents, read once: `(file name, text)`.
struct Corpus {
    jira: Vec<(String, String)>,
    issues: Vec<(String, String)>,
    adf: Vec<(String, String)>,
    catalogs: Vec<(String, String)>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let read_dir = |dir: &str| -> Vec<(String, String)> {
            let mut files: Vec<(String, String)> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(&p).unwrap())
                })
                .collect();
            files.sort();
            files
        };
        let jira = read_dir("fixtures/jira");
        let issues = jira
            .iter()
            .filter(|(name, _)| name.starts_with("issue-"))
            .cloned()
            .collect();
        let mut catalogs = read_dir("fixtures/stitch");
        catalogs.push((
            "catalog.sample.json".into(),
            std::fs::read_to_string(root.join("catalog.sample.json")).unwrap(),
        ));
        Corpus {
            jira,
            issues,
            adf: read_dir("fixtures/adf"),
            catalogs,
        }
    })
}

fn cases() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---- Mutations ------------------------------------------------------------------------------

/// One edit of a document's text; positions are fractions of its length.
#[derive(Debug, Clone)]
enum TextEdit {
    Cut(f64),
    Insert(f64, String),
    Delete(f64, usize),
    Repeat(f64, usize),
}

fn text_edit() -> impl Strategy<Value = TextEdit> {
    let fragment = prop_oneof![
        "[\\[\\]{}\",:\\\\0-9eE+.\\-]{1,4}",
        Just("null".to_string()),
        Just("\"\\u0000\"".to_string()),
        Just("\\ud800".to_string()),
        Just("é\u{a0}\u{2028}".to_string()),
        Just("\"2024-02-30T25:61:61.000+9999\"".to_string()),
        Just("1e999999".to_string()),
        ".{0,6}",
    ];
    prop_oneof![
        (0.0..1.0).prop_map(TextEdit::Cut),
        ((0.0..1.0), fragment).prop_map(|(at, s)| TextEdit::Insert(at, s)),
        ((0.0..1.0), 1usize..64).prop_map(|(at, n)| TextEdit::Delete(at, n)),
        ((0.0..1.0), 1usize..256).prop_map(|(at, n)| TextEdit::Repeat(at, n)),
    ]
}

fn boundary(text: &str, fraction: f64) -> usize {
    let mut at = ((text.len() as f64) * fraction) as usize;
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply_text_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut text = text.to_string();
    for edit in edits {
        match edit {
            TextEdit::Cut(at) => text.truncate(boundary(&text, *at)),
            TextEdit::Insert(at, s) => text.insert_str(boundary(&text, *at), s),
            TextEdit::Delete(at, n) => {
                let from = boundary(&text, *at);
                let to = boundary(
                    &text,
                    ((from + n) as f64 / text.len().max(1) as f64).min(1.0),
                );
                text.replace_range(from..to.max(from), "");
            }
            TextEdit::Repeat(at, n) => {
                let from = boundary(&text, *at);
                let to = boundary(
                    &text,
                    ((from + n) as f64 / text.len().max(1) as f64).min(1.0),
                );
                let piece = text[from..to.max(from)].to_string();
                text.insert_str(from, &piece);
            }
        }
    }
    text
}

/// Values a hostile or broken server could put anywhere.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        prop_oneof![
            "[0-9+-]{1,7}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{4}",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}",
            Just("doc".to_string()),
            Just("text".to_string()),
            Just("paragraph".to_string()),
            Just(String::new()),
            ".{0,16}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z]{1,10}",
                    prop::sample::select(vec![
                        "type",
                        "content",
                        "text",
                        "marks",
                        "attrs",
                        "id",
                        "key",
                        "fields",
                        "total",
                        "maxResults",
                        "startAt",
                        "updated",
                        "created",
                        "comments",
                        "histories",
                        "items",
                        "issues",
                        "values",
                        "schema",
                        "custom",
                    ])
                    .prop_map(String::from),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One edit of a document's tree.
#[derive(Debug, Clone)]
enum TreeEdit {
    /// The node at this index (in document order) becomes this value.
    Replace(prop::sample::Index, Value),
    Remove(prop::sample::Index),
    /// The node is wrapped this many times in arrays or `content` lists.
    Nest(prop::sample::Index, usize),
}

fn tree_edit() -> impl Strategy<Value = TreeEdit> {
    prop_oneof![
        3 => (any::<prop::sample::Index>(), hostile_value())
            .prop_map(|(at, v)| TreeEdit::Replace(at, v)),
        2 => any::<prop::sample::Index>().prop_map(TreeEdit::Remove),
        1 => (any::<prop::sample::Index>(), 1usize..300).prop_map(|(at, n)| TreeEdit::Nest(at, n)),
    ]
}

/// JSON pointers of every node below the root, in document order.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let here = format!("{at}/{i}");
                out.push(here.clone());
                pointers(item, here, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(here.clone());
                pointers(item, here, out);
            }
        }
        _ => {}
    }
}

fn apply_tree_edits(mut doc: Value, edits: &[TreeEdit]) -> Value {
    for edit in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let (TreeEdit::Replace(at, _) | TreeEdit::Remove(at) | TreeEdit::Nest(at, _)) = edit;
        let pointer = at.get(&all).clone();
        match edit {
            TreeEdit::Replace(_, value) => {
                if let Some(node) = doc.pointer_mut(&pointer) {
                    *node = value.clone();
                }
            }
            TreeEdit::Remove(_) => {
                let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", &pointer));
                let last = last.replace("~1", "/").replace("~0", "~");
                match doc.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = last.parse::<usize>()
                            && i < items.len()
                        {
                            items.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            TreeEdit::Nest(_, times) => {
                if let Some(node) = doc.pointer_mut(&pointer) {
                    let mut nested = node.take();
                    for i in 0..*times {
                        nested = if i % 2 == 0 {
                            json!([nested])
                        } else {
                            json!({"type": "paragraph", "content": [nested]})
                        };
                    }
                    *node = nested;
                }
            }
        }
    }
    doc
}

/// A corpus document, mutated as text.
fn text_case(pick: fn(&Corpus) -> &Vec<(String, String)>) -> impl Strategy<Value = String> {
    let seeds = pick(corpus()).clone();
    (
        prop::sample::select(seeds),
        prop::collection::vec(text_edit(), 0..4),
    )
        .prop_map(|((_, text), edits)| apply_text_edits(&text, &edits))
}

/// A corpus document, mutated as a tree (always valid JSON).
fn tree_case(pick: fn(&Corpus) -> &Vec<(String, String)>) -> impl Strategy<Value = Value> {
    let seeds = pick(corpus()).clone();
    (
        prop::sample::select(seeds),
        prop::collection::vec(tree_edit(), 0..6),
    )
        .prop_map(|((_, text), edits)| {
            apply_tree_edits(serde_json::from_str(&text).unwrap(), &edits)
        })
}

// ---- What each parser must do ---------------------------------------------------------------

/// The raw reader either refuses text or reads it; when the text is a valid JSON object, it
/// reads it, and writes back the same JSON.
fn raw_reader_agrees_with_serde(text: &str) -> Result<(), TestCaseError> {
    let raw = RawObject::parse(text);
    if let Some(raw) = &raw {
        let mut out = String::new();
        raw.write_to(&mut out);
    }
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
        let raw = raw.ok_or_else(|| TestCaseError::fail("a valid object was refused"))?;
        let mut out = String::new();
        raw.write_to(&mut out);
        let again: Value = serde_json::from_str(&out)
            .map_err(|e| TestCaseError::fail(format!("written back as invalid JSON: {e}")))?;
        prop_assert_eq!(again, Value::Object(object));
    }
    let _ = raw::array_items(text);
    let _ = raw::array_objects(text);
    Ok(())
}

/// A document renders from its text as from the value serde_json reads from that text; text
/// serde_json refuses (nested too deep among it) renders as nothing.
fn adf_text_renders_as_its_value(text: &str) -> Result<(), TestCaseError> {
    let value = serde_json::from_str::<Value>(text).ok();
    for style in [TextStyle::Markdown, TextStyle::Plain] {
        let from_value = value.as_ref().and_then(|v| adf::render(v, style));
        prop_assert_eq!(adf::render_json(text, style), from_value);
    }
    Ok(())
}

/// Date-times rewritten in text as they are in values.
fn dates_agree(doc: &Value) -> Result<(), TestCaseError> {
    let text = serde_json::to_string_pretty(doc).unwrap();
    let mut out = String::new();
    normalize_json(&text, &mut out);
    if serde_json::from_str::<Value>(&text).is_err() {
        // Nested beyond serde's depth limit: the sync refuses such a body before this point.
        return Ok(());
    }
    let from_text: Value = serde_json::from_str(&out)
        .map_err(|e| TestCaseError::fail(format!("rewritten as invalid JSON: {e}")))?;
    let mut from_value = doc.clone();
    normalize(&mut from_value);
    prop_assert_eq!(from_text, from_value);
    // Found while the text is taken apart, as a sync finds them, they are rewritten the same in
    // the whole text and in each of its parts.
    for text in [serde_json::to_string(doc).unwrap(), text] {
        let mut dates = DateSpans::new(&text);
        let seen = RawObject::parse_opening_seeing(&text, &[], &mut |s| dates.see(&text, s));
        let parts = seen
            .iter()
            .flat_map(|o| o.entries().filter_map(|(_, v)| v.text()));
        for part in std::iter::once(text.as_str()).chain(parts) {
            let (mut scanned, mut found) = (String::new(), String::new());
            normalize_json(part, &mut scanned);
            dates.normalize_into(&text, part, &mut found);
            prop_assert_eq!(scanned, found);
        }
    }
    Ok(())
}

/// An issue taken apart as a sync does: every list moved to its child stream, every row and
/// the issue written as valid JSON.
fn issue_splits(text: &str) -> Result<(), TestCaseError> {
    let valid = serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_object());
    let Some(mut issue) = RawObject::parse(text) else {
        prop_assert!(!valid, "a valid issue was refused");
        return Ok(());
    };
    let _ = cursor_of(&issue);
    hoist_timestamps(&mut issue);
    let id = issue.get("id").and_then(|n| n.text()).unwrap_or("1");
    let key = issue.get("key").and_then(|n| n.text());
    let (id, key) = (id.to_string(), key.map(str::to_string));
    let id_token = issue.get("id").and_then(|n| n.text());
    let decoded = id_token.and_then(tap_jira::raw::as_str);
    let parent = IssueRef {
        id: &id,
        id_json: id_token
            .zip(decoded.as_deref())
            .and_then(|(token, decoded)| raw::plain_string_token(token, decoded)),
        key: key.as_deref(),
    };
    // Taken apart as a sync does (the fields and the pages around lists at once), the issue
    // answers the same.
    let pages = STREAMS.iter().filter_map(|def| match &def.source {
        Source::IssueChild { list, .. } => list.embedded.and_then(|e| e.page),
        _ => None,
    });
    let Some(mut opened) =
        RawObject::parse_opening(text, &Opening::to(["/fields"].into_iter().chain(pages)))
    else {
        prop_assert!(!valid, "a valid issue was refused when taken apart further");
        return Ok(());
    };
    hoist_timestamps(&mut opened);
    for def in STREAMS {
        let Source::IssueChild { list, rows } = &def.source else {
            continue;
        };
        prop_assert_eq!(list.truncated(&issue), list.truncated(&opened));
        prop_assert_eq!(list.rest_items(&issue), list.rest_items(&opened));
        let rows_of = |issue: &RawObject<'_>| {
            let mut own = issue.clone();
            let items = list.take_from(&mut own);
            let mut texts: Vec<String> = items
                .into_iter()
                .flat_map(|item| rows_made(*rows, &parent, Cow::Owned(item)))
                .map(|row| {
                    let mut out = String::new();
                    row.write_to(&mut out);
                    out
                })
                .collect();
            let mut out = String::new();
            own.write_to(&mut out);
            texts.push(out);
            texts
        };
        if valid {
            // The same JSON, though what was taken apart is written without its whitespace.
            let values = |texts: Vec<String>| -> Vec<Option<Value>> {
                texts.iter().map(|t| serde_json::from_str(t).ok()).collect()
            };
            prop_assert_eq!(values(rows_of(&issue)), values(rows_of(&opened)));
        }
        let mut own = issue.clone();
        for item in list.take_from(&mut own) {
            for row in rows_made(*rows, &parent, Cow::Borrowed(&item)) {
                let mut out = String::new();
                row.write_to(&mut out);
                if valid {
                    let row: Value = serde_json::from_str(&out).map_err(|e| {
                        TestCaseError::fail(format!("{} row is invalid JSON: {e}", def.name))
                    })?;
                    prop_assert!(row.is_object(), "{} row is not an object", def.name);
                }
            }
        }
        let mut out = String::new();
        own.write_to(&mut out);
        if valid {
            prop_assert!(
                serde_json::from_str::<Value>(&out).is_ok(),
                "the issue without its {} is invalid JSON",
                def.name
            );
        }
        // Entries side by side in the text, written as one part, come out the same, as they
        // are and with their date-times rewritten.
        let joined = |write: fn(&str, &mut String)| {
            let (mut whole, mut apart) = (String::new(), String::new());
            own.write_with(&mut whole, &InBase { base: text, write });
            own.write_with(&mut apart, &write);
            (whole, apart)
        };
        for write in [as_it_came as fn(&str, &mut String), normalize_json] {
            let (whole, apart) = joined(write);
            prop_assert_eq!(whole, apart);
        }
    }
    Ok(())
}

/// A page body split as the pagers do agrees with serde_json's reading of it: the one-pass split
/// accepts exactly what serde_json does, and finds the same records and keys; and it agrees with
/// the same body read as a value.
/// The rows `rows` makes of `item`, collected.
fn rows_made<'a>(
    rows: Rows,
    parent: &IssueRef<'a>,
    item: Cow<'_, RawObject<'a>>,
) -> Vec<RawObject<'a>> {
    let mut made = Vec::new();
    let _ = rows.each(parent, item, |row| {
        made.push(row);
        Ok(())
    });
    made
}

fn page_splits(body: &str) -> Result<(), TestCaseError> {
    // What a split found, comparable: the other keys, and the records' texts.
    let shown = |split: &serde_json::Result<(Value, List<RawRecord>)>| {
        split
            .as_ref()
            .ok()
            .map(|(rest, list)| (rest.clone(), format!("{list:?}")))
    };
    for items in [None, Some("issues"), Some("values"), Some("/page/values")] {
        let split = split_page(body, items);
        let reference = split_page_with_serde(body, items);
        prop_assert_eq!(
            shown(&split),
            shown(&reference),
            "split under {:?} differs from serde_json's ({:?})",
            items,
            reference.as_ref().err()
        );
        read_as_it_arrives(body, items, &split)?;
        let Ok(Value::Object(whole)) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        let Some(key) = items.filter(|k| !k.starts_with('/')) else {
            continue;
        };
        let (rest, list) =
            split.map_err(|e| TestCaseError::fail(format!("a valid object was refused: {e}")))?;
        let mut others = whole.clone();
        let listed = others.remove(key);
        prop_assert_eq!(rest, Value::Object(others));
        match (listed, list) {
            (Some(Value::Array(want)), List::Items(got)) => {
                let got: Vec<Value> = got
                    .iter()
                    .map(|raw| serde_json::from_str(raw.get()).unwrap())
                    .collect();
                prop_assert_eq!(got, want);
            }
            (None | Some(Value::Null), List::Absent) => {}
            (Some(other), List::NotAList) if !other.is_array() && !other.is_null() => {}
            (want, got) => {
                return Err(TestCaseError::fail(format!(
                    "`{key}`: {want:?} read as {got:?}"
                )));
            }
        }
    }
    Ok(())
}

/// The same body split as it arrives, in chunks of several sizes and with windows from one byte
/// up, gives what `split_page` gives for the whole body; or the body back, byte for byte. Records
/// taken apart as they are checked come apart as the raw reader takes them apart.
fn read_as_it_arrives(
    body: &str,
    items: Option<&'static str>,
    whole: &serde_json::Result<(Value, List<RawRecord>)>,
) -> Result<(), TestCaseError> {
    let opening: std::sync::Arc<[Opening]> = Opening::to_objects_and_lists(
        ["/fields", "/fields/comment", "/changelog", "/a"],
        [
            "/fields/comment/comments",
            "/changelog/histories",
            "/a",
            "/b",
            "/fields/c/d",
        ],
    )
    .into();
    for (chunk, window, taking_apart) in [
        (1, 1, false),
        (7, 16, true),
        (64, 1, false),
        (1000, 256, true),
        (usize::MAX, 1 << 18, false),
        (usize::MAX, 1 << 18, true),
    ] {
        let opening = taking_apart.then(|| opening.clone());
        let mut reader = PageReader::with_window(items, window).taking_apart(opening.clone());
        for piece in body.as_bytes().chunks(chunk.min(body.len().max(1))) {
            reader.push(piece);
        }
        prop_assert_eq!(reader.received(), body.len());
        match reader.finish() {
            Ok(SplitBody {
                rest,
                items: got,
                bytes,
            }) => {
                prop_assert_eq!(bytes, body.len());
                let Ok((want_rest, want)) = whole else {
                    return Err(TestCaseError::fail(format!(
                        "split in chunks of {chunk} under {items:?}, refused whole"
                    )));
                };
                prop_assert_eq!(&rest, want_rest);
                prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
                if let (Some(opening), List::Items(got)) = (&opening, got) {
                    taken_apart_as_raw_takes_them(got, opening)?;
                }
            }
            // Byte for byte, but for lone surrogate escapes, which come back replaced once any
            // body had one (`surrogates::checked`), as the whole-body reading replaces them.
            Err(given_back) => {
                let replaced = tap_jira::surrogates::replaced(body);
                let want = replaced.as_deref().unwrap_or(body);
                prop_assert!(
                    given_back.as_slice() == body.as_bytes()
                        || given_back.as_slice() == want.as_bytes(),
                    "given back otherwise than it came"
                );
            }
        }
    }
    Ok(())
}

/// An issue in a search page, twice: read as it arrives, it comes apart as the raw reader takes
/// it apart, its embedded lists' items included.
fn issue_pages_read_as_they_arrive(issue: &str) -> Result<(), TestCaseError> {
    let body = format!("{{\"issues\": [{issue}, {issue}], \"isLast\": true}}");
    read_as_it_arrives(&body, Some("issues"), &split_page(&body, Some("issues")))
}

/// Each record taken apart while its page was checked has the layout and the date-times that
/// `RawObject::parse_opening_seeing` finds in its text; only an object with an escaped key may
/// come without.
fn taken_apart_as_raw_takes_them(
    records: Vec<RawRecord>,
    opening: &[Opening],
) -> Result<(), TestCaseError> {
    for mut record in records {
        let scanned = record.take_scanned();
        let text = record.get();
        let mut dates = DateSpans::new(text);
        let want = RawObject::parse_opening_seeing(text, opening, &mut |s| dates.see(text, s))
            .and_then(|object| raw::Layout::of(&object, text));
        match (scanned, want) {
            (Some(got), Some(layout)) => {
                prop_assert_eq!(&got.layout, &layout, "{}", text);
                prop_assert_eq!(&got.dates, &dates, "{}", text);
            }
            (None, _) if !text.starts_with('{') || text.contains('\\') => {}
            (got, want) => {
                return Err(TestCaseError::fail(format!(
                    "{text}: taken apart {got:?}, by the raw reader {want:?}"
                )));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn jira_bodies_cut_and_spliced_never_break_the_raw_reader(text in text_case(|c| &c.jira)) {
        raw_reader_agrees_with_serde(&text)?;
        page_splits(&text)?;
    }

    #[test]
    fn jira_bodies_with_hostile_values_read_the_same_raw_as_parsed(doc in tree_case(|c| &c.jira)) {
        let text = serde_json::to_string(&doc).unwrap();
        raw_reader_agrees_with_serde(&text)?;
        page_splits(&text)?;
        dates_agree(&doc)?;
    }

    #[test]
    fn issues_cut_and_spliced_split_into_child_rows_without_panic(text in text_case(|c| &c.issues)) {
        issue_splits(&text)?;
        issue_pages_read_as_they_arrive(&text)?;
    }

    #[test]
    fn issues_with_hostile_values_split_into_valid_child_rows(doc in tree_case(|c| &c.issues)) {
        let text = serde_json::to_string(&doc).unwrap();
        issue_splits(&text)?;
        issue_pages_read_as_they_arrive(&text)?;
        dates_agree(&doc)?;
    }

    #[test]
    fn field_lists_with_hostile_values_are_typed_without_panic(doc in tree_case(|c| &c.jira)) {
        for entry in doc.as_array().into_iter().flatten() {
            // Read from its text as `/field` is: any JSON reads, what is not as expected as absent.
            let field: SiteField = serde_json::from_str(&entry.to_string())
                .map_err(|e| TestCaseError::fail(format!("{entry} not read: {e}")))?;
            prop_assert_eq!(field.id(), entry.get("id").and_then(Value::as_str));
            for form in [TextForm::Adf, TextForm::Wiki] {
                let schema = field_schema(&field, form);
                prop_assert!(schema.is_object(), "{entry} typed as {schema}");
            }
        }
    }

    #[test]
    fn adf_documents_with_hostile_nodes_render_without_panic(doc in tree_case(|c| &c.adf)) {
        for style in [TextStyle::Markdown, TextStyle::Plain] {
            let _ = adf::render(&doc, style);
        }
        adf_text_renders_as_its_value(&doc.to_string())?;
    }

    #[test]
    fn adf_documents_cut_and_spliced_render_from_text_without_panic(text in text_case(|c| &c.adf)) {
        adf_text_renders_as_its_value(&text)?;
    }

    #[test]
    fn any_value_renders_as_adf_without_panic(doc in hostile_value()) {
        let doc = json!({"type": "doc", "version": 1, "content": [doc]});
        for style in [TextStyle::Markdown, TextStyle::Plain] {
            let _ = adf::render(&doc, style);
        }
        adf_text_renders_as_its_value(&doc.to_string())?;
    }

    #[test]
    fn catalogs_with_hostile_values_are_read_or_refused_without_panic(
        doc in tree_case(|c| &c.catalogs)
    ) {
        let Value::Object(object) = doc else { return Ok(()) };
        if let Ok(catalog) = Catalog::from_object(object, "fuzz") {
            for deployment in [Deployment::Cloud, Deployment::Server] {
                let _ = selected_streams(
                    catalog.clone(),
                    deployment,
                    TextForm::Adf,
                    &HashSettings::default(),
                    RenderText::Markdown,
                    // Flattened too: its schema walk meets the same hostile trees.
                    Some(2),
                );
            }
        }
    }
}

#[test]
fn the_corpus_is_there() {
    let c = corpus();
    assert!(c.jira.len() >= 10 && c.issues.len() >= 3 && c.adf.len() >= 20);
    assert!(c.catalogs.len() >= 2);
    for (name, text) in c.jira.iter().chain(&c.adf).chain(&c.catalogs) {
        assert!(
            serde_json::from_str::<Value>(text).is_ok(),
            "{name} is not JSON"
        );
    }
    let _: Map<String, Value> = Map::new();
}
