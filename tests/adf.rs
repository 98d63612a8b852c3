//! The ADF renderer against its corpus and against hostile input.
//!
//! `fixtures/adf/NAME.json` is a document, `NAME.md` and `NAME.txt` its expected Markdown and
//! plain renderings (compared exactly, less one final line break); a new fixture is a new case.
//! `ADF_BLESS=1 cargo test --test adf` writes the renderings out instead, to be read and
//! checked by hand before they are committed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tap_jira::adf::{MARK_TYPES, NODE_TYPES, TextStyle, render, render_json};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/adf")
}

/// Every fixture document, by name, in name order.
fn corpus() -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    let entries = std::fs::read_dir(corpus_dir()).expect("fixtures/adf is readable");
    for entry in entries {
        let path = entry.expect("fixtures/adf lists").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("fixture names are UTF-8")
                .to_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let doc = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            docs.push((name, doc));
        }
    }
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs
}

#[test]
fn corpus_renders_as_expected() {
    let bless = std::env::var_os("ADF_BLESS").is_some();
    let docs = corpus();
    assert!(docs.len() >= 15, "the corpus has {} documents", docs.len());
    let mut failures = Vec::new();
    for (name, doc) in &docs {
        for (style, ext) in [(TextStyle::Markdown, "md"), (TextStyle::Plain, "txt")] {
            let got = render(doc, style).unwrap_or_else(|| panic!("{name} is not a document"));
            let path = corpus_dir().join(format!("{name}.{ext}"));
            if bless {
                std::fs::write(&path, format!("{got}\n")).expect("fixture written");
                continue;
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let expected = expected.strip_suffix('\n').unwrap_or(&expected);
            if got != expected {
                failures.push(format!(
                    "{name}.{ext}\n--- expected\n{expected}\n--- got\n{got}\n"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A sync renders documents from their text: every fixture renders from its text as from its
/// value.
#[test]
fn corpus_renders_the_same_from_text() {
    for entry in std::fs::read_dir(corpus_dir()).expect("fixtures/adf is readable") {
        let path = entry.expect("fixtures/adf lists").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let value: Value = serde_json::from_str(&text).expect("fixture is JSON");
        for style in [TextStyle::Markdown, TextStyle::Plain] {
            let from_text = render_json(&text, style);
            assert!(from_text.is_some(), "{}", path.display());
            assert_eq!(from_text, render(&value, style), "{}", path.display());
        }
    }
}

/// Node and mark types used anywhere in `doc`.
fn types_in(doc: &Value, nodes: &mut BTreeSet<String>, marks: &mut BTreeSet<String>) {
    let mut stack = vec![doc];
    while let Some(node) = stack.pop() {
        if let Some(t) = node.get("type").and_then(Value::as_str) {
            nodes.insert(t.to_owned());
        }
        for mark in node
            .get("marks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = mark.get("type").and_then(Value::as_str) {
                marks.insert(t.to_owned());
            }
        }
        stack.extend(
            node.get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
}

#[test]
fn corpus_uses_every_known_type() {
    let (mut nodes, mut marks) = (BTreeSet::new(), BTreeSet::new());
    for (_, doc) in corpus() {
        types_in(&doc, &mut nodes, &mut marks);
    }
    let missing: Vec<_> = NODE_TYPES
        .iter()
        .filter(|t| !nodes.contains(**t))
        .chain(MARK_TYPES.iter().filter(|t| !marks.contains(**t)))
        .collect();
    assert!(missing.is_empty(), "no fixture uses {missing:?}");
}

fn doc(content: Value) -> Value {
    json!({"type": "doc", "version": 1, "content": content})
}

fn both(doc: &Value) -> [String; 2] {
    [TextStyle::Markdown, TextStyle::Plain].map(|style| render(doc, style).unwrap_or_default())
}

/// `both`, from the document's text.
fn both_from_text(doc: &Value) -> [String; 2] {
    let text = doc.to_string();
    [TextStyle::Markdown, TextStyle::Plain]
        .map(|style| render_json(&text, style).unwrap_or_default())
}

#[test]
fn unknown_nodes_keep_their_text() {
    let cases = [
        // A block type from the future, holding paragraphs.
        doc(
            json!([{"type": "futureBlock", "attrs": {"x": 1}, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "kept inside"}]}
            ]}]),
        ),
        // An inline wrapper within a paragraph.
        doc(json!([{"type": "paragraph", "content": [
            {"type": "text", "text": "before "},
            {"type": "futureInline", "content": [{"type": "text", "text": "kept inside"}]},
            {"type": "text", "text": " after"}
        ]}])),
        // An unknown node with its own text, straight in the document.
        doc(json!([{"type": "futureText", "text": "kept inside"}])),
        // Unknown nodes nested in unknown nodes, in a list item.
        doc(
            json!([{"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "a", "content": [{"type": "b", "content": [{"type": "c", "text": "kept inside"}]}]}
            ]}]}]),
        ),
        // Unknown marks are dropped, their text kept.
        doc(json!([{"type": "paragraph", "content": [
            {"type": "text", "text": "kept inside", "marks": [{"type": "sparkle"}, {"type": 5}, 7]}
        ]}])),
        // Known nodes where they do not belong.
        doc(json!([{"type": "paragraph", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "kept inside"}]}
        ]}])),
        doc(json!([{"type": "tableCell", "content": [{"type": "text", "text": "kept inside"}]}])),
    ];
    for case in &cases {
        for text in both(case) {
            assert!(text.contains("kept inside"), "{case} gave {text:?}");
        }
    }
}

#[test]
fn non_documents_are_refused() {
    for value in [
        json!(null),
        json!("doc"),
        json!(["doc"]),
        json!({"type": "paragraph", "content": []}),
        json!({"type": 1}),
        json!({"content": []}),
    ] {
        assert_eq!(render(&value, TextStyle::Markdown), None, "{value}");
        assert_eq!(render(&value, TextStyle::Plain), None, "{value}");
        assert_eq!(
            render_json(&value.to_string(), TextStyle::Plain),
            None,
            "{value}"
        );
    }
    for text in [
        "",
        " ",
        "{",
        r#"{"type": "doc""#,
        r#"{"type": "doc"} x"#,
        "[{}]",
        "nul",
    ] {
        assert_eq!(render_json(text, TextStyle::Markdown), None, "{text}");
    }
    assert_eq!(
        render_json(r#" {"type":"doc","content":[]} "#, TextStyle::Markdown),
        Some(String::new())
    );
}

/// Values of every JSON type, and objects with wrong-typed versions of the attributes the
/// renderer reads.
fn odd_values() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!(""),
        json!([]),
        json!([null, 1, "x"]),
        json!({}),
        json!({
            "level": "x", "order": -5, "timestamp": {}, "text": 5, "url": [], "state": 1,
            "panelType": null, "colspan": 1e300, "rowspan": -1, "language": "a`b c",
            "title": {}, "href": 7, "type": 3, "alt": false, "id": [], "shortName": 9,
            "data": "x", "panelIconText": 1
        }),
        json!({
            "level": 99, "order": 1e300, "timestamp": "-99999999999999999999", "text": "",
            "url": " ", "state": "DONE", "panelType": "custom", "colspan": 100000,
            "rowspan": 0, "language": "", "title": "", "href": "", "type": "external",
            "alt": "", "id": "", "shortName": "", "data": {"url": 1, "name": []}
        }),
        json!({"timestamp": 1.5e20, "order": "12", "colspan": "3", "text": "\n\r\n", "url": "a b"}),
    ]
}

fn odd_contents() -> Vec<Option<Value>> {
    vec![
        None,
        Some(json!(null)),
        Some(json!("text")),
        Some(json!(5)),
        Some(json!({"type": "text", "text": "x"})),
        Some(json!([1, "a", null, [], {}])),
        Some(json!([{"type": "text", "text": 5}, {"type": "text"}, {"type": null}])),
        Some(json!([{"type": "text", "text": " *a* \n", "marks": [{"type": "strong"}]}])),
        Some(json!([{"type": "paragraph", "content": [{"type": "text", "text": "p"}]}])),
        Some(
            json!([{"type": "listItem"}, {"type": "tableRow", "content": [{"type": "tableCell"}]}]),
        ),
        Some(json!([{"type": "hardBreak"}, {"type": "hardBreak"}, {"type": "text", "text": "`"}])),
    ]
}

fn odd_marks() -> Vec<Option<Value>> {
    vec![
        None,
        Some(json!(5)),
        Some(json!([1, null, "strong"])),
        Some(json!([{"type": "link"}, {"type": "link", "attrs": {"href": 5}}])),
        Some(json!([{"type": "subsup", "attrs": {}}, {"type": "subsup", "attrs": "sub"}])),
        Some(
            json!([{"type": "strong"}, {"type": "code"}, {"type": "link", "attrs": {"href": "a)b"}}]),
        ),
        Some(json!([{"type": "em"}, {"type": "em"}, {"type": "strike"}, {"type": "underline"}])),
    ]
}

fn odd_texts() -> Vec<Option<Value>> {
    vec![
        None,
        Some(json!(5)),
        Some(json!("")),
        Some(json!("x *y* _z_ \n` | # 1. [a](b)")),
    ]
}

/// Whether `line` ends in an empty task, `- [ ] ` (or checked, or `*`).
fn empty_task(line: &str) -> bool {
    ["- [ ] ", "- [x] ", "* [ ] ", "* [x] "]
        .iter()
        .any(|task| line.ends_with(task))
}

/// Every node type (and one unknown) with every odd attribute set and content, marks and text
/// in turn, inside each kind of parent: nothing may panic, and no line may end in whitespace
/// but a line of code, which is kept as it is, and an empty task's (`- [ ] `).
#[test]
fn malformed_documents_do_not_panic() {
    let mut types: Vec<&str> = NODE_TYPES.to_vec();
    types.push("somethingNew");
    let (values, contents, marks, texts) = (odd_values(), odd_contents(), odd_marks(), odd_texts());
    let mut count = 0usize;
    for (t, kind) in types.iter().enumerate() {
        for (a, attrs) in values.iter().enumerate() {
            for (c, content) in contents.iter().enumerate() {
                let mut node = json!({"type": kind, "attrs": attrs});
                let i = t + a + c;
                if let Some(content) = content {
                    node["content"] = content.clone();
                }
                if let Some(m) = &marks[i % marks.len()] {
                    node["marks"] = m.clone();
                }
                if let Some(text) = &texts[i % texts.len()] {
                    node["text"] = text.clone();
                }
                let parents = [
                    doc(json!([node.clone()])),
                    doc(json!([{"type": "paragraph", "content": [node.clone()]}])),
                    doc(
                        json!([{"type": "table", "content": [{"type": "tableRow", "content": [
                        {"type": "tableHeader", "content": [node.clone()]}]}]}]),
                    ),
                    doc(json!([{"type": "orderedList", "content": [
                        {"type": "listItem", "content": [node.clone()]}]}])),
                    doc(json!([{"type": "blockquote", "content": [node.clone(), node.clone()]}])),
                ];
                for parent in &parents {
                    let texts = both(parent);
                    assert_eq!(both_from_text(parent), texts, "{parent}");
                    for text in texts {
                        assert!(!text.ends_with('\n'), "{parent}");
                        let code = |l: &str| *kind == "codeBlock" && l.trim_end().ends_with("*a*");
                        assert!(
                            text.lines()
                                .all(|l| l.trim_end() == l || code(l) || empty_task(l)),
                            "{parent} gave a line ending in whitespace: {text:?}"
                        );
                        count += 1;
                    }
                }
            }
        }
    }
    assert!(count > 10_000, "{count} renderings");
}

/// A node built without `json!`, which would copy `content` by serialising it (recursively).
fn node(kind: &str, attrs: Value, content: Vec<Value>) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("type".to_owned(), Value::from(kind));
    map.insert("attrs".to_owned(), attrs);
    map.insert("content".to_owned(), Value::Array(content));
    Value::Object(map)
}

/// A document nested 10,000 levels deep, built without recursion: `wrap` puts a node inside
/// its parent.
fn nested(wrap: impl Fn(Value, usize) -> Value) -> Value {
    let mut inner = json!({"type": "text", "text": "bottom"});
    for level in 0..10_000 {
        inner = wrap(inner, level);
    }
    node("doc", json!({}), vec![inner])
}

/// Takes a value apart without recursion: dropping 10,000 nested levels would overflow the
/// stack.
fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

type Wrap = fn(Value, usize) -> Value;

#[test]
fn deep_nesting_keeps_the_text() {
    let shapes: [(&str, Wrap); 6] = [
        ("quotes", |n, _| node("blockquote", json!({}), vec![n])),
        ("lists", |n, _| {
            let item = node("listItem", json!({}), vec![n]);
            node("bulletList", json!({}), vec![item])
        }),
        ("tasks", |n, _| {
            let step = json!({"type": "taskItem", "attrs": {"state": "DONE"},
                "content": [{"type": "text", "text": "step"}]});
            node("taskList", json!({}), vec![step, n])
        }),
        ("tables", |n, _| {
            let cell = node("tableCell", json!({}), vec![n]);
            let row = node("tableRow", json!({}), vec![cell]);
            node("table", json!({}), vec![row])
        }),
        ("unknown", |n, level| {
            node(["x", "y", "z"][level % 3], json!(null), vec![n])
        }),
        ("mixed", |n, level| match level % 4 {
            0 => node("paragraph", json!({}), vec![n]),
            1 => node("panel", json!({"panelType": "tip"}), vec![n]),
            2 => node("expand", json!({"title": "t"}), vec![n]),
            _ => node("layoutColumn", json!({}), vec![n]),
        }),
    ];
    // On a thread with half the stack of a runtime worker (2 MiB), so that the depth limit
    // keeps a margin.
    let run = move || {
        for (name, wrap) in shapes {
            let deep = nested(wrap);
            for text in both(&deep) {
                assert!(text.contains("bottom"), "{name}: the text is lost");
            }
            dismantle(deep);
        }
    };
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(run)
        .expect("thread starts")
        .join()
        .expect("no panic");
}

/// Spans claiming millions of columns and rows, over many rows: the padding has a budget, so
/// the output stays proportional to the input.
#[test]
fn huge_spans_stay_bounded() {
    let wide = json!({"type": "tableCell", "attrs": {"colspan": 1_000_000_000u64, "rowspan": 1e12},
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]});
    let rows: Vec<Value> = (0..2_000)
        .map(|_| node("tableRow", json!({}), vec![wide.clone(), wide.clone()]))
        .collect();
    let table = doc(json!([node("table", json!({}), rows)]));
    let [markdown, plain] = both(&table);
    assert!(markdown.len() < 2_000_000, "{} bytes", markdown.len());
    assert_eq!(plain.lines().count(), 2_000);
}

/// GitHub links `www.` addresses as they stand in the source, escapes and all: an escape in one
/// shows as a backslash and breaks the link, as in `www.example.com/\~john`.
#[test]
fn www_addresses_keep_their_text_and_their_link() {
    let text =
        |s: &str| doc(json!([{"type": "paragraph", "content": [{"type": "text", "text": s}]}]));
    let [markdown, plain] = both(&text("see www.example.com/~john for details"));
    assert_eq!(plain, "see www.example.com/~john for details");
    assert_eq!(
        markdown,
        "see [www.example.com/\\~john](http://www.example.com/~john) for details"
    );
    let [markdown, _] = both(&text("www.example.com/a*b*c, then"));
    assert_eq!(
        markdown,
        "[www.example.com/a\\*b\\*c](http://www.example.com/a*b*c), then"
    );
    // Not at the start of a word, GitHub leaves it alone, and so do the escapes.
    let [markdown, _] = both(&text("awww.example.com/~x"));
    assert_eq!(markdown, "awww.example.com/\\~x");
    // A link's text is not autolinked.
    let linked = doc(json!([{"type": "paragraph", "content": [{"type": "text",
        "text": "www.example.com/~john", "marks": [{"type": "link", "attrs": {"href": "https://x"}}]}]}]));
    assert_eq!(both(&linked)[0], "[www.example.com/\\~john](https://x)");
}

/// GitHub links a `www.` address whose host starts with a letter outside ASCII (`www.ärzte.de`)
/// as it does any other, escapes and all.
#[test]
fn a_www_address_with_a_host_beyond_ascii_keeps_its_text_and_its_link() {
    let case = doc(json!([{"type": "paragraph", "content": [{"type": "text",
        "text": "Termine: www.ärzte-köln.de/_praxis/~team, bitte"}]}]));
    for rendered in [both(&case), both_from_text(&case)] {
        assert_eq!(
            rendered,
            [
                "Termine: [www.ärzte-köln.de/\\_praxis/\\~team](http://www.ärzte-köln.de/_praxis/~team), bitte",
                "Termine: www.ärzte-köln.de/_praxis/~team, bitte"
            ]
        );
    }
}

/// GitHub links `ftp://` addresses as it does `http(s)://` ones, as they stand in the source:
/// an escape in one (`ftp://host/\~john`) shows as a backslash and breaks the link.
#[test]
fn ftp_addresses_keep_their_text_and_their_link() {
    let case = doc(json!([{"type": "paragraph", "content": [{"type": "text",
        "text": "get ftp://ftp.example.com/~john/my_file_.tar.gz, or FTP://x.org/*"}]}]));
    for rendered in [both(&case), both_from_text(&case)] {
        assert_eq!(
            rendered,
            [
                "get <ftp://ftp.example.com/~john/my_file_.tar.gz>, or <FTP://x.org/>\\*",
                "get ftp://ftp.example.com/~john/my_file_.tar.gz, or FTP://x.org/*"
            ]
        );
    }
}

/// `#`s ending a heading after a tab (text pasted from a spreadsheet) are its closing sequence
/// to CommonMark, as after a space, and were dropped from it: they must stay text.
#[test]
fn a_heading_ending_in_hashes_after_a_tab_keeps_them() {
    let text = |s: &str| json!({"type": "text", "text": s});
    for (content, hashes) in [
        (json!([text("Items\t#")]), "#"),
        (json!([text("Items\t"), text("##")]), "##"),
    ] {
        let case = doc(json!([{"type": "heading", "attrs": {"level": 2}, "content": content}]));
        for rendered in [both(&case), both_from_text(&case)] {
            assert_eq!(
                rendered,
                [format!("## Items\t\\{hashes}"), format!("Items\t{hashes}")]
            );
        }
    }
}

/// A custom panel's icon opens the first line of its quote: text there that Markdown reads as
/// the start of a list, a heading or a quote must stay text.
#[test]
fn a_custom_panel_icon_stays_text_at_the_start_of_its_line() {
    for (icon, escaped) in [
        ("-", "\\-"),
        ("+", "\\+"),
        ("1.", "1\\."),
        ("#", "\\#"),
        (">", "\\>"),
    ] {
        let panel = doc(json!([{"type": "panel",
            "attrs": {"panelType": "custom", "panelIconText": icon},
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Body"}]}]}]));
        assert_eq!(
            both(&panel),
            [format!("> {escaped} Body"), format!("{icon} Body")]
        );
    }
}

/// A text node may end in `&` and the next go on with an entity's name: split by a mark that
/// Markdown drops (a colour, an annotation), `Tom &` and `amp; Jerry` must not read as an
/// entity, `&amp;`, which shows as `&`.
#[test]
fn an_entity_split_across_text_nodes_stays_literal() {
    let red = json!([{"type": "textColor", "attrs": {"color": "#ff0000"}}]);
    for (first, second, shown) in [
        ("Tom &", "amp; Jerry", "Tom &amp; Jerry"),
        ("x &", "#169; y", "x &#169; y"),
    ] {
        let split = doc(json!([{"type": "paragraph", "content": [
            {"type": "text", "text": first, "marks": red},
            {"type": "text", "text": second}
        ]}]));
        let whole = doc(json!([{"type": "paragraph", "content": [
            {"type": "text", "text": shown}
        ]}]));
        assert_eq!(both(&split), both(&whole), "{first:?} {second:?}");
    }
}

/// `:` and `-` at the start of a line, in two text nodes (split by a colour), must not make the
/// line a table's delimiter row, which turns the line before into a table's header.
#[test]
fn a_delimiter_row_split_across_text_nodes_stays_text() {
    let red = json!([{"type": "textColor", "attrs": {"color": "#ff0000"}}]);
    let split = doc(json!([{"type": "paragraph", "content": [
        {"type": "text", "text": "a"},
        {"type": "hardBreak"},
        {"type": "text", "text": ":", "marks": red},
        {"type": "text", "text": "-"}
    ]}]));
    let whole = doc(json!([{"type": "paragraph", "content": [
        {"type": "text", "text": "a"},
        {"type": "hardBreak"},
        {"type": "text", "text": ":-"}
    ]}]));
    assert_eq!(both(&split), both(&whole));
}

/// Text where a table's row or cell belongs (a document from another app, or a malformed one)
/// keeps its text, as it does everywhere else.
#[test]
fn text_in_place_of_a_table_row_or_cell_is_kept() {
    let text = |s: &str| json!({"type": "text", "text": s});
    let cases = [
        doc(json!([{"type": "table", "content": [text("kept inside")]}])),
        doc(
            json!([{"type": "table", "content": [{"type": "tableRow", "content": [text("kept inside")]}]}]),
        ),
        doc(
            json!([{"type": "table", "content": [{"type": "paragraph", "content": [text("kept inside")]}]}]),
        ),
    ];
    for case in &cases {
        for text in both(case) {
            assert!(text.contains("kept inside"), "{case} gave {text:?}");
        }
    }
}

/// A rule opening a bullet item: `- ---` is one thematic break, and the item and its list are
/// gone.
#[test]
fn a_rule_opening_a_bullet_item_stays_in_its_item() {
    let item = doc(
        json!([{"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "rule"},
            {"type": "paragraph", "content": [{"type": "text", "text": "after"}]}
        ]}]}]),
    );
    assert_eq!(both(&item), ["- ***\n\n  after", "- after"]);
}

/// A line separator (U+2028, pasted from some editors) beside bold text that starts with
/// punctuation: CommonMark does not count it as whitespace, so `**` there would show as it is.
#[test]
fn bold_beside_a_line_separator_stays_bold() {
    let bold = json!([{"type": "strong"}]);
    let case = doc(json!([{"type": "paragraph", "content": [
        {"type": "text", "text": "Status:\u{2028}"},
        {"type": "text", "text": "(done)", "marks": bold}
    ]}]));
    for rendered in [both(&case), both_from_text(&case)] {
        assert_eq!(
            rendered,
            [
                "Status:\u{2028}<strong>(done)</strong>",
                "Status:\u{2028}(done)"
            ]
        );
    }
}

/// A link on a space between words or on a line break kept no trace of its URL; it is written
/// with its URL as its text. Plain text leaves links out, as ever.
#[test]
fn a_link_on_a_blank_keeps_its_url() {
    let link = json!([{"type": "link", "attrs": {"href": "https://example.com/x"}}]);
    let case = doc(json!([{"type": "paragraph", "content": [
        {"type": "text", "text": "see"},
        {"type": "text", "text": " ", "marks": link},
        {"type": "text", "text": "there"},
        {"type": "hardBreak", "marks": link},
        {"type": "text", "text": "end"}
    ]}]));
    let shown = "[https://example.com/x](https://example.com/x)";
    for rendered in [both(&case), both_from_text(&case)] {
        assert_eq!(
            rendered,
            [
                format!("see {shown} there {shown}\\\nend"),
                "see there\nend".to_owned()
            ]
        );
    }
}

/// Code is verbatim: spaces and tabs at the ends of its lines (significant in Markdown, YAML
/// or a diff) were trimmed with those of the other lines.
#[test]
fn a_code_block_keeps_the_spaces_that_end_its_lines() {
    let code =
        json!({"type": "codeBlock", "content": [{"type": "text", "text": "a  \n\tb\t\nc "}]});
    let cases = [
        (
            doc(json!([code.clone()])),
            ["```\na  \n\tb\t\nc \n```", "a  \n\tb\t\nc "],
        ),
        (
            doc(json!([{"type": "blockquote", "content": [code.clone()]}])),
            ["> ```\n> a  \n> \tb\t\n> c \n> ```", "a  \n\tb\t\nc "],
        ),
        (
            doc(
                json!([{"type": "bulletList", "content": [{"type": "listItem", "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "x"}]}, code
                ]}]}]),
            ),
            [
                "- x\n\n  ```\n  a  \n  \tb\t\n  c \n  ```",
                "- x\n\n  a  \n  \tb\t\n  c ",
            ],
        ),
    ];
    for (case, expected) in cases {
        assert_eq!(both(&case), expected, "{case}");
        assert_eq!(both_from_text(&case), expected, "{case}");
    }
    // Only code: an attribute's text, which plain text writes as it is, still loses them.
    let attrs = doc(json!([
        {"type": "expand", "attrs": {"title": "Read me \nnow"}, "content": [
            {"type": "panel", "attrs": {"panelType": "custom", "panelIconText": "a \nb"},
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "c"}]}]}
        ]},
        {"type": "mediaSingle", "content": [
            {"type": "media", "attrs": {"type": "file", "id": "1", "alt": "d \ne"}}]},
        {"type": "mediaSingle", "content": [
            {"type": "media", "attrs": {"type": "external", "url": "https://f \ng"}}]}
    ]));
    let plain = "Read me\nnow\n\na\nb c\n\n[attachment: d\ne]\n\n[image: https://f\ng]";
    assert_eq!(both(&attrs)[1], plain);
    assert_eq!(both_from_text(&attrs)[1], plain);
}

/// A task without content (Jira keeps one made and left empty) lost the space after its box:
/// `- [ ]` is no task in GitHub's reading, only the text `[ ]`, at the end of the document.
/// Plain text has no such reading, and no trailing space.
#[test]
fn an_empty_task_keeps_its_box() {
    let task = |state: &str, content: Value| {
        let mut item = json!({"type": "taskItem", "attrs": {"localId": "1", "state": state}});
        if !content.is_null() {
            item["content"] = content;
        }
        item
    };
    let para = json!([{"type": "text", "text": "b"}]);
    let cases = [
        (
            doc(json!([{"type": "taskList", "content": [task("TODO", Value::Null)]}])),
            ["- [ ] ", "- [ ]"],
        ),
        (
            doc(json!([{"type": "taskList", "content": [
                task("DONE", json!([])), task("TODO", para.clone()), task("TODO", json!([]))
            ]}])),
            ["- [x] \n- [ ] b\n- [ ] ", "- [x]\n- [ ] b\n- [ ]"],
        ),
        (
            doc(
                json!([{"type": "blockquote", "content": [{"type": "taskList", "content": [
                    task("TODO", para), {"type": "taskList", "content": [task("DONE", Value::Null)]}
                ]}]}]),
            ),
            ["> - [ ] b\n>   - [x] ", "- [ ] b\n  - [x]"],
        ),
    ];
    for (case, expected) in cases {
        assert_eq!(both(&case), expected, "{case}");
        assert_eq!(both_from_text(&case), expected, "{case}");
    }
}

/// A URL whose text Jira split across text nodes (a mark on part of it, or an edit in the
/// middle) was linked up to the split only (`<https://exa>mple.com`), a link to an address
/// that does not exist. It is one link, whole, in the marks of the node it starts in; text
/// after it in the other node keeps that node's marks.
#[test]
fn a_url_split_across_text_nodes_is_one_link() {
    let para = |pieces: Value| doc(json!([{"type": "paragraph", "content": pieces}]));
    let text = |s: &str| json!({"type": "text", "text": s});
    let bold = |s: &str| json!({"type": "text", "text": s, "marks": [{"type": "strong"}]});
    let cases = [
        (
            para(json!([text("see https://exa"), text("mple.com/b end")])),
            "see <https://example.com/b> end",
        ),
        (
            para(json!([
                text("see https://example.com/a"),
                bold("/b_c"),
                text(" end")
            ])),
            "see <https://example.com/a/b_c> end",
        ),
        (
            para(json!([bold("see https://example.com/a"), text("/b, end")])),
            "**see <https://example.com/a/b>**, end",
        ),
        (
            para(json!([text("https://x.org/a"), bold("b"), text("c/d. x")])),
            "<https://x.org/abc/d>. x",
        ),
        (
            para(json!([text("at https://x.org/page."), text("html")])),
            "at <https://x.org/page.html>",
        ),
        (
            para(json!([text("https://x.org/a"), bold("/b c")])),
            "<https://x.org/a/b> **c**",
        ),
        (
            para(json!([text("https://x.org/?a=1&b"), text("=2 end")])),
            "<https://x.org/?a=1&b=2> end",
        ),
        (
            para(json!([text("go to www.exa"), text("mple.com now")])),
            "go to [www.example.com](http://www.example.com) now",
        ),
        // Not one URL: the node after it does not go on with it.
        (
            para(json!([text("https://x.org/a"), text(", then")])),
            "<https://x.org/a>, then",
        ),
        (
            para(json!([text("https://x.org/a"), text(" b")])),
            "<https://x.org/a> b",
        ),
        (
            para(
                json!([text("https://x.org/a"), {"type": "text", "text": "/b",
                "marks": [{"type": "link", "attrs": {"href": "https://y.org"}}]}]),
            ),
            "<https://x.org/a>[/b](https://y.org)",
        ),
    ];
    for (case, expected) in cases {
        let plain: String = case["content"][0]["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["text"].as_str())
            .collect();
        let expected = [expected.to_owned(), plain];
        assert_eq!(both(&case), expected, "{case}");
        assert_eq!(both_from_text(&case), expected, "{case}");
    }
    // A mention or an emoji after a URL is not part of it.
    let mention = json!({"type": "mention", "attrs": {"id": "1", "text": "@bob"}});
    let emoji = json!({"type": "emoji", "attrs": {"shortName": ":x:", "text": "x"}});
    for (atom, shown) in [(mention, "@bob"), (emoji, "x")] {
        let case = para(json!([text("go https://x.org/a"), atom]));
        let expected = [
            format!("go <https://x.org/a>{shown}"),
            format!("go https://x.org/a{shown}"),
        ];
        assert_eq!(both(&case), expected, "{case}");
        assert_eq!(both_from_text(&case), expected, "{case}");
    }
}

/// A card under a link mark was a link inside a link, which CommonMark does not nest: the
/// outer one's brackets and URL showed as text (`[[x](u)](v)`). Links do not nest: the mark
/// wins, with the card's name (or URL) as its text.
#[test]
fn a_card_under_a_link_is_the_link_s_text() {
    let link = json!([{"type": "link", "attrs": {"href": "https://y.org"}}]);
    let para = |attrs: Value| {
        doc(json!([{"type": "paragraph", "content": [
            {"type": "text", "text": "see ", "marks": link},
            {"type": "inlineCard", "attrs": attrs, "marks": link}
        ]}]))
    };
    let cases = [
        (
            para(json!({"url": "https://x.org/a"})),
            [
                "[see https://x.org/a](https://y.org)",
                "see https://x.org/a",
            ],
        ),
        (
            para(json!({"data": {"url": "https://x.org/a", "name": "A [draft]"}})),
            ["[see A \\[draft\\]](https://y.org)", "see https://x.org/a"],
        ),
    ];
    for (case, expected) in cases {
        assert_eq!(both(&case), expected, "{case}");
        assert_eq!(both_from_text(&case), expected, "{case}");
    }
}

/// A task whose first block is not a paragraph (a code block, a heading, a quote, a list, a
/// rule) had it on the box's line, where GitHub reads it as the task's text: `- [ ] ## h`
/// shows `## h`, and a code block's fence came apart. The box is a paragraph of its own.
#[test]
fn a_task_opening_with_a_block_keeps_the_block() {
    let p = |s: &str| json!({"type": "paragraph", "content": [{"type": "text", "text": s}]});
    let blocks = [
        (
            json!({"type": "codeBlock", "content": [{"type": "text", "text": "code"}]}),
            "```\n  code\n  ```",
            "code",
        ),
        (
            json!({"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "h"}]}),
            "## h",
            "h",
        ),
        (
            json!({"type": "blockquote", "content": [p("q")]}),
            "> q",
            "q",
        ),
        (
            json!({"type": "bulletList", "content": [{"type": "listItem", "content": [p("li")]}]}),
            "- li",
            "- li",
        ),
        (json!({"type": "rule"}), "---", ""),
    ];
    for (block, markdown, plain) in blocks {
        let case = doc(json!([{"type": "taskList", "content": [
            {"type": "blockTaskItem", "attrs": {"state": "DONE"}, "content": [block, p("after")]}
        ]}]));
        let plain = if plain.is_empty() {
            "- [x] after".to_owned()
        } else {
            format!("- [x] {plain}\n\n  after")
        };
        let expected = [format!("- [x] \n\n  {markdown}\n\n  after"), plain];
        assert_eq!(both(&case), expected, "{case}");
        assert_eq!(both_from_text(&case), expected, "{case}");
    }
}
