//! Atlassian Document Format (ADF), the JSON documents Jira Cloud sends for rich text (issue
//! description and environment, comment bodies, worklog comments, textarea custom fields),
//! rendered as Markdown or as plain text. A sync renders each document from its JSON text
//! (`render_json`), read into buffers of slots that point back into the text, reused from one
//! document to the next; `render` takes a `Value`, and both render alike. Blocks are written
//! one after the other into one output, and paragraphs, prefixed lines and atoms into buffers
//! also kept for the thread: a typical document allocates once, for its result.
//!
//! Markdown is CommonMark with GitHub's tables, task lists and strikethrough. Where ADF has no
//! Markdown counterpart:
//! - panels are block quotes opened by a bold label (`> **Warning:** …`); a custom panel opens
//!   with its emoji instead;
//! - expands are a bold title followed by their content;
//! - decision items are bullet items;
//! - a media file is `[attachment: NAME]`, NAME being its `alt` (the file name Jira puts
//!   there) or else its id; an external image is `![alt](url)`;
//! - a status is its text in brackets (`[IN REVIEW]`), a date `YYYY-MM-DD` in UTC, a mention
//!   `@Name`, an emoji its character (or its short name), a card a link to its URL;
//! - a link on content that shows nothing (a space, a line break) has its URL as its text;
//! - underline is `<u>…</u>`, sub- and superscript `<sub>`/`<sup>`; colours, alignment,
//!   indentation, borders, breakout, annotations and the other presentational marks are dropped;
//! - inside a table cell, line breaks and the breaks between blocks are `<br>` and a code block
//!   is inline code, so that every row stays on one line.
//!
//! Text is escaped so that it reads back as the same text, whatever characters it holds; a bare
//! `http(s)://` or `ftp://` URL in it is written `<url>`, an autolink, and a `www.` address a
//! link to it (`[www.x.com](http://www.x.com)`), because GitHub would link them with their
//! escapes. A URL split across text nodes is one link, in the marks of the node it starts in. Bold, italic and strikethrough use `**`, `*` and `~~`, or `<strong>`, `<em>` and
//! `<del>` where the characters around a run would keep CommonMark from reading its delimiters
//! (`a**(b)**c`).
//!
//! Plain text is the same layout without markup: list items keep their `- ` / `1. ` / `- [x] `
//! prefixes, table cells are joined by ` | ` (one row a line), a panel keeps its label (`Note:`),
//! a file keeps its `[attachment: NAME]` and an external image is `[image: URL]`; mentions,
//! emoji, dates and statuses are their text, cards their URL, and a rule is left out.
//!
//! Documents come from users and from other apps through the API, so nothing in them is
//! trusted: a node of an unknown type is rendered as its content, wrong or missing attributes
//! fall back to defaults, and past `MAX_DEPTH` levels a node is reduced to its text, gathered
//! without recursion.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;

use chrono::DateTime;
use serde_json::{Number, Value};

mod json;

/// How `render` writes a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStyle {
    /// CommonMark with GitHub's extensions; see the module documentation for the conventions.
    Markdown,
    /// The text alone, laid out in lines, without markup.
    Plain,
}

/// Every node type the renderer knows: Atlassian's documented ADF nodes. Any other type is
/// rendered as its content.
pub const NODE_TYPES: &[&str] = &[
    "doc",
    "paragraph",
    "text",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "taskList",
    "taskItem",
    "blockTaskItem",
    "decisionList",
    "decisionItem",
    "blockquote",
    "codeBlock",
    "rule",
    "panel",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "media",
    "mediaSingle",
    "mediaGroup",
    "mediaInline",
    "caption",
    "hardBreak",
    "mention",
    "emoji",
    "date",
    "status",
    "inlineCard",
    "blockCard",
    "embedCard",
    "expand",
    "nestedExpand",
    "extension",
    "bodiedExtension",
    "inlineExtension",
    "multiBodiedExtension",
    "extensionFrame",
    "placeholder",
    "layoutSection",
    "layoutColumn",
    "syncBlock",
    "bodiedSyncBlock",
];

/// Every mark type the renderer knows. The ones without a Markdown form (colours, layout,
/// annotations) are known in order to be dropped; unknown marks are dropped too.
pub const MARK_TYPES: &[&str] = &[
    "strong",
    "em",
    "strike",
    "code",
    "link",
    "underline",
    "subsup",
    "textColor",
    "backgroundColor",
    "alignment",
    "indentation",
    "breakout",
    "border",
    "annotation",
    "dataConsumer",
    "fragment",
];

/// Nesting deeper than this is reduced to text. Real documents stay far below; each level costs
/// a few stack frames (under 5 KiB in a debug build), well within a runtime thread's 2 MiB.
const MAX_DEPTH: usize = 100;

/// Inline nodes: in a run of blocks, they are gathered into a paragraph.
const INLINE_TYPES: &[&str] = &[
    "text",
    "hardBreak",
    "mention",
    "emoji",
    "date",
    "status",
    "inlineCard",
    "mediaInline",
    "placeholder",
    "inlineExtension",
];

/// The nodes a list holds its items in.
const ITEM_TYPES: &[&str] = &["listItem", "taskItem", "blockTaskItem", "decisionItem"];

/// CommonMark reads at most nine digits as a list number.
const MAX_ORDER: u64 = 999_999_999;

/// Empty cells a table may gain from spans and from filling out short rows: plenty for a real
/// table, and a bound on what a crafted one can make the output grow to.
const MAX_PADDING: usize = 100_000;

/// The document rendered, or None when `doc` is not an ADF document (not an object with
/// "type": "doc").
pub fn render(doc: &Value, style: TextStyle) -> Option<String> {
    render_tree(doc, style)
}

/// `render` for a document's JSON text, read without building a `Value`; None also when the
/// text is not valid JSON (or is nested deeper than serde_json reads, 128 levels).
pub fn render_json(text: &str, style: TextStyle) -> Option<String> {
    // Only an object can be a document: other values are not worth parsing.
    if !text.trim_start().starts_with('{') {
        return None;
    }
    thread_local! {
        /// Each thread reads its documents into the same buffers.
        static BUFFERS: Cell<json::Buffers> = Cell::default();
    }
    let mut buffers = BUFFERS.take();
    let rendered = buffers
        .read(text)
        .and_then(|doc| render_tree(doc.root(), style));
    if buffers.small() {
        BUFFERS.set(buffers);
    }
    rendered
}

fn render_tree<'t, N: Tree<'t>>(doc: N, style: TextStyle) -> Option<String> {
    if kind(doc) != "doc" {
        return None;
    }
    let renderer = Renderer {
        style,
        in_table: false,
    };
    thread_local! {
        /// Each thread renders its documents in the same buffer, then copies the result out:
        /// one allocation, of the right size.
        static OUTPUT: Cell<String> = Cell::default();
    }
    let mut text = OUTPUT.take();
    text.clear();
    renderer.blocks_into(children(doc), 0, &mut Blocks::new(&mut text, false));
    let rendered = tidy(&text);
    if text.capacity() <= MAX_SCRATCH {
        OUTPUT.set(text);
    }
    Some(rendered)
}

/// The text without the line breaks at its end. Lines keep the whitespace that ends them: only
/// a line of code has any, and code is verbatim.
fn tidy(text: &str) -> String {
    text.trim_end_matches('\n').to_owned()
}

/// What the renderer reads of a JSON value: a `&Value`, or a value of a document read from
/// text. Nodes are handles, passed by value; what they hold lives for `'t`.
trait Tree<'t>: Copy {
    /// An array's items.
    type Items: DoubleEndedIterator<Item = Self>;
    /// The value under `key` when this is an object.
    fn get(self, key: &str) -> Option<Self>;
    fn as_str(self) -> Option<&'t str>;
    fn as_array(self) -> Option<Self::Items>;
    fn as_number(self) -> Option<Number>;
}

impl<'t> Tree<'t> for &'t Value {
    type Items = std::slice::Iter<'t, Value>;

    fn get(self, key: &str) -> Option<&'t Value> {
        self.as_object()?.get(key)
    }

    fn as_str(self) -> Option<&'t str> {
        Value::as_str(self)
    }

    fn as_array(self) -> Option<Self::Items> {
        Value::as_array(self).map(|items| items.iter())
    }

    fn as_number(self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        }
    }
}

fn kind<'t, N: Tree<'t>>(node: N) -> &'t str {
    node.get("type").and_then(Tree::as_str).unwrap_or("")
}

fn children<'t, N: Tree<'t>>(node: N) -> impl DoubleEndedIterator<Item = N> {
    node.get("content")
        .and_then(Tree::as_array)
        .into_iter()
        .flatten()
}

fn attr<'t, N: Tree<'t>>(node: N, key: &str) -> Option<N> {
    node.get("attrs")?.get(key)
}

fn attr_str<'t, N: Tree<'t>>(node: N, key: &str) -> Option<&'t str> {
    attr(node, key)?.as_str()
}

/// A non-negative whole number, however it was written.
fn attr_u64<'t, N: Tree<'t>>(node: N, key: &str) -> Option<u64> {
    let value = attr(node, key)?;
    let number = value.as_number();
    number
        .as_ref()
        .and_then(Number::as_u64)
        .or_else(|| {
            number?
                .as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        })
        .or_else(|| value.as_str()?.trim().parse().ok())
}

/// A table row's or cell's content; an inline node where a row or a cell belongs (text, in a
/// malformed table) is its own content, so that its text is kept.
fn content_or_self<'t, N: Tree<'t>>(node: N) -> impl DoubleEndedIterator<Item = N> {
    let own = is_inline(node);
    children(node)
        .filter(move |_| !own)
        .chain(own.then_some(node))
}

fn is_inline<'t, N: Tree<'t>>(node: N) -> bool {
    let k = kind(node);
    INLINE_TYPES.contains(&k)
        || (!NODE_TYPES.contains(&k) && node.get("text").and_then(Tree::as_str).is_some())
}

fn is_list(kind: &str) -> bool {
    matches!(
        kind,
        "bulletList" | "orderedList" | "taskList" | "decisionList"
    )
}

/// Lists of one family, written one after the other, would be read as one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Bullet,
    Ordered,
}

fn family(kind: &str) -> Option<Family> {
    match kind {
        "orderedList" => Some(Family::Ordered),
        k if is_list(k) => Some(Family::Bullet),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Paragraph,
    /// `alt`: written with the other marker (`*`, `1)`) so that it does not join the list
    /// before it. `interrupts`: it may follow a paragraph without a blank line.
    List {
        family: Family,
        alt: bool,
        interrupts: bool,
    },
    Other,
}

/// Blocks written one after the other into one output: a blank line between them, except
/// before a list that goes on from a paragraph of the same list item. A block that comes out
/// empty is left out.
struct Blocks<'o> {
    out: &'o mut String,
    in_item: bool,
    /// The shapes of the first and of the last block written.
    first: Option<Shape>,
    last: Option<Shape>,
}

impl<'o> Blocks<'o> {
    fn new(out: &'o mut String, in_item: bool) -> Blocks<'o> {
        Blocks {
            out,
            in_item,
            first: None,
            last: None,
        }
    }

    /// Writes a block with `write`, which appends its lines (without a trailing line break) to
    /// the output and says its shape.
    fn push(&mut self, write: impl FnOnce(&mut String) -> Shape) {
        let before = self.out.len();
        if self.last.is_some() {
            self.out.push_str("\n\n");
        }
        let start = self.out.len();
        let shape = write(self.out);
        if self.out.len() == start {
            self.out.truncate(before);
            return;
        }
        let tight = self.in_item
            && self.last == Some(Shape::Paragraph)
            && matches!(
                shape,
                Shape::List {
                    interrupts: true,
                    ..
                }
            );
        if tight {
            self.out.remove(before);
        }
        self.first.get_or_insert(shape);
        self.last = Some(shape);
    }
}

/// The marker of an item of an ordered list (`12. `), written in `buf`.
fn number_marker(buf: &mut [u8; 16], number: u64, delimiter: char) -> &str {
    use std::io::Write as _;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(cursor, "{number}{delimiter} ");
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    std::str::from_utf8(buf.get(..len).unwrap_or(&[])).unwrap_or("")
}

/// The marker of an item of a bullet or task list.
fn bullet_marker(bullet: char, task: bool, done: bool) -> &'static str {
    match (bullet, task, done) {
        ('*', false, _) => "* ",
        ('*', true, false) => "* [ ] ",
        ('*', true, true) => "* [x] ",
        (_, false, _) => "- ",
        (_, true, false) => "- [ ] ",
        (_, true, true) => "- [x] ",
    }
}

/// Spaces to indent a list item's lines by: as wide as the widest marker (`999999999. `).
const INDENT: &str = "            ";

/// Puts `first` before the first line of the text from `start` on and `rest` before the
/// others. A blank line gets the prefix without its trailing spaces.
fn prefix_lines(out: &mut String, start: usize, first: &str, rest: &str) {
    with_scratch(|text| {
        text.push_str(out.get(start..).unwrap_or(""));
        out.truncate(start);
        out.reserve(text.len() + first.len());
        for (i, line) in text.split('\n').enumerate() {
            let prefix = if i == 0 { first } else { rest };
            if i > 0 {
                out.push('\n');
            }
            if line.is_empty() {
                out.push_str(prefix.trim_end());
            } else {
                out.push_str(prefix);
                out.push_str(line);
            }
        }
    });
}

/// `f` run with an empty buffer kept for the thread, for text moved aside while it is
/// rewritten. A use inside another gets a buffer of its own.
fn with_scratch<R>(f: impl FnOnce(&mut String) -> R) -> R {
    thread_local! {
        static SCRATCH: Cell<String> = Cell::default();
    }
    let mut scratch = SCRATCH.take();
    scratch.clear();
    let result = f(&mut scratch);
    if scratch.capacity() <= MAX_SCRATCH {
        SCRATCH.set(scratch);
    }
    result
}

/// Bytes a scratch buffer keeps for the next use at most: a huge document's are let go.
const MAX_SCRATCH: usize = 1 << 16;

/// A code block's fence, as long as most need.
const FENCE: &str = "````````";

#[derive(Debug, Clone, Copy)]
struct Renderer {
    style: TextStyle,
    /// Inside a table cell, where a row must stay on one line.
    in_table: bool,
}

impl Renderer {
    fn markdown(self) -> bool {
        self.style == TextStyle::Markdown
    }

    /// Renders `nodes` as blocks; runs of inline nodes among them make paragraphs.
    fn blocks_into<'t, N: Tree<'t>>(
        self,
        nodes: impl Iterator<Item = N>,
        depth: usize,
        out: &mut Blocks<'_>,
    ) {
        let mut paragraph = None;
        for node in nodes {
            if is_inline(node) {
                let w = paragraph.get_or_insert_with(|| self.writer(Mode::Flow));
                self.inline_node(w, node, depth);
                continue;
            }
            if let Some(w) = paragraph.take() {
                out.push(|out| {
                    w.finish_into(out);
                    Shape::Paragraph
                });
            }
            self.block_into(node, depth, out);
        }
        if let Some(w) = paragraph {
            out.push(|out| {
                w.finish_into(out);
                Shape::Paragraph
            });
        }
    }

    fn block_into<'t, N: Tree<'t>>(self, node: N, depth: usize, out: &mut Blocks<'_>) {
        if depth > MAX_DEPTH {
            let mut w = self.writer(Mode::Flow);
            w.text(&[], &flat_text(node));
            out.push(|out| {
                w.finish_into(out);
                Shape::Paragraph
            });
            return;
        }
        let depth = depth + 1;
        let k = kind(node);
        match k {
            "paragraph" | "caption" => self.paragraph_into(children(node), depth, out),
            "heading" => out.push(|out| self.heading(node, depth, out)),
            k if is_list(k) => {
                let alt = match (family(k), out.last) {
                    (Some(f), Some(Shape::List { family, alt, .. })) => f == family && !alt,
                    _ => false,
                };
                out.push(|out| self.list(node, depth, alt, out));
            }
            "blockquote" => out.push(|out| {
                let start = out.len();
                self.blocks_into(children(node), depth, &mut Blocks::new(out, false));
                self.quote(out, start);
                Shape::Other
            }),
            "panel" => out.push(|out| self.panel(node, depth, out)),
            "codeBlock" => out.push(|out| self.code_block(node, out)),
            "rule" if self.markdown() => out.push(|out| {
                out.push_str("---");
                Shape::Other
            }),
            "rule" | "syncBlock" => {}
            "table" => out.push(|out| {
                self.table(node, depth, out);
                Shape::Other
            }),
            "media" | "blockCard" | "embedCard" | "extension" => {
                self.paragraph_into(std::iter::once(node), depth, out);
            }
            "expand" | "nestedExpand" => {
                if let Some(title) = attr_str(node, "title").map(str::trim)
                    && !title.is_empty()
                {
                    out.push(|out| {
                        if self.markdown() {
                            out.push_str("**");
                            escape_linking_into(out, title, &mut Line::Mid);
                            out.push_str("**");
                        } else {
                            plain_into(out, title);
                        }
                        Shape::Paragraph
                    });
                }
                self.blocks_into(children(node), depth, out);
            }
            // doc, items and table parts out of place, layouts, bodied extensions and sync
            // blocks, media groups, and every type not known: their content.
            _ => self.blocks_into(children(node), depth, out),
        }
    }

    fn writer<'t>(self, mode: Mode) -> Inline<'t> {
        let mode = if self.in_table { Mode::Cell } else { mode };
        Inline::new(self.markdown(), mode, self.in_table)
    }

    fn paragraph_into<'t, N: Tree<'t>>(
        self,
        nodes: impl Iterator<Item = N>,
        depth: usize,
        out: &mut Blocks<'_>,
    ) {
        let mut w = self.writer(Mode::Flow);
        for node in nodes {
            self.inline_node(&mut w, node, depth);
        }
        out.push(|out| {
            w.finish_into(out);
            Shape::Paragraph
        });
    }

    fn heading<'t, N: Tree<'t>>(self, node: N, depth: usize, out: &mut String) -> Shape {
        let mut w = self.writer(Mode::Heading);
        for child in children(node) {
            self.inline_node(&mut w, child, depth);
        }
        let start = out.len();
        w.finish_into(out);
        let text = out.get(start..).unwrap_or("");
        if !self.markdown() || self.in_table || text.is_empty() {
            return Shape::Other;
        }
        let level = attr_u64(node, "level").unwrap_or(1).clamp(1, 6) as usize;
        // `#`s at the end, after a space or a tab, would be read as the heading's closing
        // sequence.
        let before = text.trim_end_matches('#');
        if before.len() < text.len() && (before.is_empty() || before.ends_with([' ', '\t'])) {
            out.insert(start + before.len(), '\\');
        }
        out.insert(start, ' ');
        out.insert_str(start, "######".get(..level).unwrap_or("#"));
        Shape::Other
    }

    /// Quotes the text from `start` on, in Markdown.
    fn quote(self, out: &mut String, start: usize) {
        if self.markdown() && out.len() > start {
            prefix_lines(out, start, "> ", "> ");
        }
    }

    fn panel<'t, N: Tree<'t>>(self, node: N, depth: usize, out: &mut String) -> Shape {
        let (markdown_label, plain_label) = match attr_str(node, "panelType") {
            Some("info") => ("**Info:**", "Info:"),
            Some("tip") => ("**Tip:**", "Tip:"),
            Some("warning") => ("**Warning:**", "Warning:"),
            Some("error") => ("**Error:**", "Error:"),
            Some("success") => ("**Success:**", "Success:"),
            _ => ("**Note:**", "Note:"),
        };
        let icon = attr_str(node, "panelIconText")
            .map(str::trim)
            .filter(|icon| !icon.is_empty() && attr_str(node, "panelType") == Some("custom"));
        let label = match (icon, self.markdown()) {
            // The icon opens the quote's first line.
            (Some(icon), true) => Cow::Owned(escape_line_start(icon)),
            (Some(icon), false) if icon.contains('\n') => Cow::Owned(plain(icon)),
            (Some(icon), false) => Cow::Borrowed(icon),
            (None, true) => Cow::Borrowed(markdown_label),
            (None, false) => Cow::Borrowed(plain_label),
        };
        let start = out.len();
        let mut blocks = Blocks::new(out, false);
        self.blocks_into(children(node), depth, &mut blocks);
        let Some(first) = blocks.first else {
            return Shape::Other;
        };
        // The label opens the first paragraph, or is a paragraph of its own.
        out.insert_str(
            start,
            if first == Shape::Paragraph {
                " "
            } else {
                "\n\n"
            },
        );
        out.insert_str(start, &label);
        self.quote(out, start);
        Shape::Other
    }

    fn code_block<'t, N: Tree<'t>>(self, node: N, out: &mut String) -> Shape {
        let start = out.len();
        code_text_into(out, node);
        let end = start + out.get(start..).unwrap_or("").trim_end_matches('\n').len();
        out.truncate(end);
        let text = out.get(start..).unwrap_or("");
        if text.trim().is_empty() {
            out.truncate(start);
            return Shape::Other;
        }
        if !self.markdown() {
            return Shape::Other;
        }
        if self.in_table {
            let span = code_span(text, true);
            out.truncate(start);
            out.push_str(&span);
            return Shape::Other;
        }
        let ticks = longest_run(text, '`').max(2) + 1;
        let fence = match FENCE.get(..ticks) {
            Some(fence) => Cow::Borrowed(fence),
            None => Cow::Owned("`".repeat(ticks)),
        };
        // An info string can hold neither backticks nor, usefully, spaces.
        let language = attr_str(node, "language")
            .filter(|l| {
                !l.chars()
                    .any(|c| c == '`' || c.is_whitespace() || c.is_control())
            })
            .unwrap_or("");
        out.insert(start, '\n');
        out.insert_str(start, language);
        out.insert_str(start, &fence);
        out.push('\n');
        out.push_str(&fence);
        Shape::Other
    }

    fn list<'t, N: Tree<'t>>(self, node: N, depth: usize, alt: bool, out: &mut String) -> Shape {
        let list = kind(node);
        let markdown = self.markdown();
        let ordered = list == "orderedList";
        let tasks = list == "taskList";
        let start = if ordered {
            attr_u64(node, "order").unwrap_or(1).min(MAX_ORDER)
        } else {
            1
        };
        let (bullet, delimiter) = if markdown && alt {
            ('*', ')')
        } else {
            ('-', '.')
        };
        let list_start = out.len();
        let mut number = start;
        let mut numbered = [0; 16];
        let mut width = 2;
        let mut first_empty = None;
        for child in children(node) {
            // Items one a line.
            let entry = out.len();
            if entry > list_start {
                out.push('\n');
            }
            let body = out.len();
            if is_list(kind(child)) {
                // A list right inside a list (tasks nest this way) belongs to the item before.
                self.blocks_into(std::iter::once(child), depth, &mut Blocks::new(out, false));
                if out.len() == body {
                    out.truncate(entry);
                } else {
                    let pad = INDENT.get(..width).unwrap_or(INDENT);
                    prefix_lines(out, body, pad, pad);
                }
                continue;
            }
            let marker = if ordered {
                number_marker(&mut numbered, number, delimiter)
            } else {
                let done = tasks && attr_str(child, "state") == Some("DONE");
                bullet_marker(bullet, tasks, done)
            };
            // A task's checkbox is the start of its paragraph: what follows aligns after `- `.
            width = if tasks { 2 } else { marker.len() };
            let mut blocks = Blocks::new(out, true);
            if ITEM_TYPES.contains(&kind(child)) {
                self.blocks_into(children(child), depth, &mut blocks);
            } else {
                self.blocks_into(std::iter::once(child), depth, &mut blocks);
            }
            let first = blocks.first;
            let empty = out.len() == body;
            first_empty.get_or_insert(empty);
            // GitHub reads what follows a task's box on its line as the task's text: a block
            // other than a paragraph goes after it, a blank line apart.
            let apart = markdown && tasks && !empty && first != Some(Shape::Paragraph);
            if apart {
                out.insert_str(body, "\n\n");
            }
            // A rule opening the item would make `- ---`, one thematic break.
            let item = out.get(body..).unwrap_or("");
            if markdown && marker == "- " && (item == "---" || item.starts_with("---\n")) {
                out.replace_range(body..body + 3, "***");
            }
            prefix_lines(out, body, marker, INDENT.get(..width).unwrap_or(INDENT));
            // GitHub reads `[ ]` as a task's box only with whitespace after it, which the end
            // of the document is not.
            if markdown && tasks && empty {
                out.push(' ');
            } else if apart {
                out.insert(body + marker.trim_end().len(), ' ');
            }
            number = number.saturating_add(1).min(MAX_ORDER);
        }
        // CommonMark lets a list break into a paragraph only if it starts with a non-empty
        // item, and with 1 when it is ordered.
        let interrupts = !markdown || ((!ordered || start == 1) && first_empty == Some(false));
        Shape::List {
            family: if ordered {
                Family::Ordered
            } else {
                Family::Bullet
            },
            alt,
            interrupts,
        }
    }

    fn table<'t, N: Tree<'t>>(self, node: N, depth: usize, out: &mut String) {
        let cells = Renderer {
            in_table: true,
            ..self
        };
        let start = out.len();
        if !self.markdown() {
            // A row a line, its cells joined by ` | `; a row of empty cells is left out.
            for row in children(node) {
                let texts: Vec<String> =
                    content_or_self(row).map(|c| cells.cell(c, depth)).collect();
                if texts.iter().all(String::is_empty) {
                    continue;
                }
                if out.len() > start {
                    out.push('\n');
                }
                let line = out.len();
                for (i, text) in texts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" | ");
                    }
                    out.push_str(text);
                }
                let joined = out.get(line..).unwrap_or("");
                let end = line + joined.trim_end().len();
                let lead = joined.len() - joined.trim_start().len();
                out.truncate(end);
                out.drain(line..line + lead);
            }
            return;
        }
        let (mut rows, padding) = cells.grid(node, depth);
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        if width == 0 {
            return;
        }
        if self.in_table {
            // A table in a cell: its rows, as one escaped line each.
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                for (j, text) in row.iter().enumerate() {
                    if j > 0 {
                        out.push_str(" \\| ");
                    }
                    out.push_str(text);
                }
            }
            return;
        }
        // Short rows are filled out when the budget allows; GitHub fills them anyway.
        let short: usize = rows.iter().map(|row| width - row.len()).sum();
        if short <= padding {
            for row in &mut rows {
                row.resize(width, String::new());
            }
        }
        let header = children(node)
            .next()
            .is_some_and(|row| children(row).any(|c| kind(c) == "tableHeader"));
        let mut body = rows.iter();
        let head = if header { body.next() } else { None };
        write_row(out, head.map_or(&[][..], Vec::as_slice), width);
        out.push_str("\n|");
        for _ in 0..width {
            out.push_str(" --- |");
        }
        for row in body {
            out.push('\n');
            write_row(out, row, row.len().max(1));
        }
    }

    /// The table's cells laid out in columns: a cell spanning columns is followed by empty
    /// cells, a column that a cell above spans is skipped with an empty cell. Also what is left
    /// of the padding budget.
    fn grid<'t, N: Tree<'t>>(self, node: N, depth: usize) -> (Vec<Vec<String>>, usize) {
        let mut padding = MAX_PADDING;
        let mut rows = Vec::new();
        // For each column, the first row that a cell above no longer covers.
        let mut covered_until: Vec<u64> = Vec::new();
        for (r, row) in (0u64..).zip(children(node)) {
            let mut line: Vec<String> = Vec::new();
            for cell in content_or_self(row) {
                while padding > 0 && covered_until.get(line.len()).is_some_and(|&u| u > r) {
                    line.push(String::new());
                    padding -= 1;
                }
                let col = line.len();
                line.push(self.cell(cell, depth));
                let extra = usize::try_from(attr_u64(cell, "colspan").unwrap_or(1))
                    .unwrap_or(usize::MAX)
                    .saturating_sub(1)
                    .min(padding);
                padding -= extra;
                line.resize(col + 1 + extra, String::new());
                let rows_down = attr_u64(cell, "rowspan").unwrap_or(1);
                if rows_down > 1 {
                    if covered_until.len() < line.len() {
                        covered_until.resize(line.len(), 0);
                    }
                    for until in covered_until.iter_mut().skip(col).take(1 + extra) {
                        *until = r.saturating_add(rows_down);
                    }
                }
            }
            rows.push(line);
        }
        (rows, padding)
    }

    /// A cell's content on one line.
    fn cell<'t, N: Tree<'t>>(self, cell: N, depth: usize) -> String {
        with_scratch(|text| {
            self.blocks_into(content_or_self(cell), depth, &mut Blocks::new(text, false));
            let separator = if self.markdown() { "<br>" } else { " " };
            let mut line = String::new();
            for part in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !line.is_empty() {
                    line.push_str(separator);
                }
                line.push_str(part);
            }
            line
        })
    }

    fn inline_node<'t, N: Tree<'t>>(self, w: &mut Inline<'t>, node: N, depth: usize) {
        if depth > MAX_DEPTH {
            w.text(&[], &flat_text(node));
            return;
        }
        let depth = depth + 1;
        // Plain text shows no marks.
        let (marks, code) = if self.markdown() {
            marks_of(node)
        } else {
            (Marks::none(), false)
        };
        match kind(node) {
            "text" => {
                if let Some(text) = node.get("text").and_then(Tree::as_str) {
                    if code {
                        w.code(&marks, text);
                    } else {
                        w.text(&marks, text);
                    }
                }
            }
            "hardBreak" => {
                w.blank(&marks);
                w.line_break();
            }
            "status" if self.markdown() => {
                let text = attr_str(node, "text").map(str::trim);
                if let Some(text) = text.filter(|t| !t.is_empty()) {
                    with_scratch(|raw| {
                        raw.push('[');
                        escape_linking_into(raw, text, &mut Line::Mid);
                        raw.push(']');
                        w.atom(&marks, raw);
                    });
                } else {
                    w.blank(&marks);
                }
            }
            "mention" | "emoji" | "date" | "status" | "placeholder" | "inlineExtension"
            | "extension" => with_scratch(|text| {
                if label_into(text, node) {
                    w.label(&marks, text);
                } else {
                    w.blank(&marks);
                }
            }),
            "inlineCard" | "blockCard" | "embedCard" => self.card(w, node, &marks),
            "media" | "mediaInline" => with_scratch(|raw| {
                self.media_into(raw, node);
                w.atom(&marks, raw);
            }),
            "codeBlock" => w.code(&marks, &code_text(node)),
            k if NODE_TYPES.contains(&k) => {
                // A block where inline content belongs: its text, set apart by spaces.
                w.space(" ");
                for child in children(node) {
                    self.inline_node(w, child, depth);
                }
                w.space(" ");
            }
            _ => {
                if let Some(text) = node.get("text").and_then(Tree::as_str) {
                    w.text(&marks, text);
                }
                for child in children(node) {
                    self.inline_node(w, child, depth);
                }
            }
        }
    }

    fn card<'t, N: Tree<'t>>(self, w: &mut Inline<'t>, node: N, marks: &[Mark<'t>]) {
        let data = attr(node, "data");
        let url = attr_str(node, "url")
            .or_else(|| data?.get("url")?.as_str())
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let name = data
            .and_then(|d| d.get("name"))
            .and_then(Tree::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty());
        // Links do not nest: under a link mark, the card is the link's text.
        let linked = marks.iter().any(|m| matches!(m, Mark::Link(_)));
        match (url, self.markdown()) {
            (Some(url), true) if linked => w.label(marks, name.unwrap_or(url)),
            (Some(url), true) => with_scratch(|raw| {
                raw.push('[');
                escape_into(raw, name.unwrap_or(url), &mut Line::Mid);
                raw.push_str("](");
                destination_into(raw, url);
                raw.push(')');
                w.atom(marks, raw);
            }),
            (Some(url), false) => w.text(marks, url),
            (None, _) => w.text(marks, name.unwrap_or("")),
        }
    }

    /// A media node as an atom, written to `out`.
    fn media_into<'t, N: Tree<'t>>(self, out: &mut String, node: N) {
        let alt = attr_str(node, "alt")
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let id = attr_str(node, "id").filter(|i| !i.is_empty());
        let url = attr_str(node, "url").filter(|u| !u.is_empty());
        let external = attr_str(node, "type") == Some("external") || id.is_none();
        match (url, self.markdown()) {
            (Some(url), true) if external => {
                out.push_str("![");
                escape_into(out, alt.unwrap_or(""), &mut Line::Mid);
                out.push_str("](");
                destination_into(out, url);
                out.push(')');
            }
            (Some(url), false) if external => {
                out.push_str("[image: ");
                plain_into(out, url);
                out.push(']');
            }
            _ => match (alt.or(id), self.markdown()) {
                (Some(name), markdown) => {
                    out.push_str("[attachment: ");
                    if markdown {
                        escape_linking_into(out, name, &mut Line::Mid);
                    } else {
                        plain_into(out, name);
                    }
                    out.push(']');
                }
                (None, _) => out.push_str("[attachment]"),
            },
        }
    }
}

/// One row of a pipe table, `width` cells wide.
fn write_row(out: &mut String, cells: &[String], width: usize) {
    out.push('|');
    for i in 0..width {
        match cells.get(i).map(String::as_str) {
            Some(text) if !text.is_empty() => {
                out.push(' ');
                out.push_str(text);
                out.push_str(" |");
            }
            _ => out.push_str(" |"),
        }
    }
}

/// Writes the text an inline atom stands for to `out`: a mention's name, an emoji, a date, a
/// status. False, having written nothing, when it has none.
fn label_into<'t, N: Tree<'t>>(out: &mut String, node: N) -> bool {
    let start = out.len();
    if write_label(out, node).is_some() && out.get(start..).is_some_and(|t| !t.trim().is_empty()) {
        return true;
    }
    out.truncate(start);
    false
}

fn write_label<'t, N: Tree<'t>>(out: &mut String, node: N) -> Option<()> {
    let nonempty = |s: &&str| !s.trim().is_empty();
    let text = match kind(node) {
        "mention" => {
            let name = attr_str(node, "text")
                .filter(nonempty)
                .or_else(|| attr_str(node, "id").filter(nonempty))?;
            if !name.starts_with('@') {
                out.push('@');
            }
            name
        }
        "emoji" => attr_str(node, "text")
            .filter(nonempty)
            .or_else(|| attr_str(node, "shortName"))?,
        "date" => return date_into(out, node),
        "status" | "placeholder" | "inlineExtension" | "extension" => attr_str(node, "text")?,
        _ => return None,
    };
    out.push_str(text);
    Some(())
}

/// Writes a date node's day in UTC; a timestamp that is not one is kept as it was written.
fn date_into<'t, N: Tree<'t>>(out: &mut String, node: N) -> Option<()> {
    let timestamp = attr(node, "timestamp")?;
    let millis = match (timestamp.as_str(), timestamp.as_number()) {
        (Some(s), _) => s.trim().parse::<i64>().ok(),
        (_, Some(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    };
    match millis.and_then(DateTime::from_timestamp_millis) {
        Some(t) => {
            let _ = write!(out, "{}", t.date_naive());
        }
        None => out.push_str(timestamp.as_str()?),
    }
    Some(())
}

/// An attribute's text in plain text, as it is but for the whitespace before its line breaks:
/// only code keeps that.
fn plain_into(out: &mut String, s: &str) {
    let mut lines = s.split('\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_some() {
            out.push_str(line.trim_end());
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
}

fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    plain_into(&mut out, s);
    out
}

fn code_text<'t, N: Tree<'t>>(node: N) -> String {
    let mut out = String::new();
    code_text_into(&mut out, node);
    out
}

/// A code block's text, its line breaks made `\n`, appended to `out`.
fn code_text_into<'t, N: Tree<'t>>(out: &mut String, node: N) {
    let start = out.len();
    for text in children(node).filter_map(|n| n.get("text")?.as_str()) {
        out.push_str(text);
    }
    if out.get(start..).is_some_and(|text| text.contains('\r')) {
        let text = out.split_off(start);
        out.push_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
    }
}

/// The text of `node` and everything under it, on one line, gathered without recursion: for
/// nesting too deep to render.
fn flat_text<'t, N: Tree<'t>>(node: N) -> String {
    let mut out = String::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        let k = kind(n);
        if !label_into(&mut out, n) && (k == "text" || !NODE_TYPES.contains(&k)) {
            out.push_str(n.get("text").and_then(Tree::as_str).unwrap_or(""));
        }
        if !INLINE_TYPES.contains(&k) || k == "hardBreak" {
            out.push(' ');
        }
        stack.extend(children(n).rev());
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A mark Markdown can show, in nesting order: outermost first. HTML tags go outside the
/// delimiters, so that a delimiter touches the text it marks (`a<u>*b*</u>`, where `a*<u>b`
/// would not open). Code is apart: a code span holds no other markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark<'t> {
    /// Its destination, as the document has it.
    Link(&'t str),
    Underline,
    Sub,
    Sup,
    Strong,
    Em,
    Strike,
}

impl Mark<'_> {
    fn rank(&self) -> u8 {
        match self {
            Mark::Link(_) => 0,
            Mark::Underline => 1,
            Mark::Sub => 2,
            Mark::Sup => 3,
            Mark::Strong => 4,
            Mark::Em => 5,
            Mark::Strike => 6,
        }
    }

    /// The HTML form of a delimiter mark, for where its delimiters would not be read as such.
    fn html(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Mark::Strong => Some(("<strong>", "</strong>")),
            Mark::Em => Some(("<em>", "</em>")),
            Mark::Strike => Some(("<del>", "</del>")),
            _ => None,
        }
    }

    fn opener(&self) -> &'static str {
        match self {
            Mark::Link(_) => "[",
            Mark::Strong => "**",
            Mark::Em => "*",
            Mark::Strike => "~~",
            Mark::Underline => "<u>",
            Mark::Sub => "<sub>",
            Mark::Sup => "<sup>",
        }
    }

    fn write_closer(&self, out: &mut String) {
        let closer = match self {
            Mark::Link(href) => {
                out.push_str("](");
                destination_into(out, href);
                ")"
            }
            Mark::Strong => "**",
            Mark::Em => "*",
            Mark::Strike => "~~",
            Mark::Underline => "</u>",
            Mark::Sub => "</sub>",
            Mark::Sup => "</sup>",
        };
        out.push_str(closer);
    }
}

/// The marks of `node` that Markdown can show, outermost first, and whether its text is code.
fn marks_of<'t, N: Tree<'t>>(node: N) -> (Marks<'t>, bool) {
    let mut marks = Marks::none();
    let mut code = false;
    let listed = node.get("marks").and_then(Tree::as_array);
    for m in listed.into_iter().flatten() {
        let mark = match kind(m) {
            "strong" => Mark::Strong,
            "em" => Mark::Em,
            "strike" => Mark::Strike,
            "underline" => Mark::Underline,
            "code" => {
                code = true;
                continue;
            }
            "subsup" => match attr_str(m, "type") {
                Some("sub") => Mark::Sub,
                Some("sup") => Mark::Sup,
                _ => continue,
            },
            // Links do not nest: the first one wins.
            "link" if !marks.iter().any(|m| matches!(m, Mark::Link(_))) => {
                match attr_str(m, "href").map(str::trim) {
                    Some(href) if !href.is_empty() => Mark::Link(href),
                    _ => continue,
                }
            }
            _ => continue,
        };
        if !marks.contains(&mark) {
            marks.push(mark);
        }
    }
    marks.sort_by_key(Mark::rank);
    (marks, code)
}

/// The kinds of mark: a node has one of each at most, and so has a run at any point.
const MARK_KINDS: usize = 7;

/// A node's marks.
type Marks<'t> = Few<Mark<'t>, MARK_KINDS>;

impl<'t> Marks<'t> {
    fn none() -> Marks<'t> {
        Few::new(Mark::Strong)
    }
}

/// Up to `N` values kept in place, where a `Vec` would allocate: marks, of which there are
/// a few at most.
#[derive(Debug, Clone, Copy)]
struct Few<T: Copy, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy, const N: usize> Few<T, N> {
    /// Empty; `fill` stands in the places not used.
    fn new(fill: T) -> Few<T, N> {
        Few {
            items: [fill; N],
            len: 0,
        }
    }

    /// Adds `item` at the end; past `N` (no caller goes there), it is dropped.
    fn push(&mut self, item: T) {
        if let Some(place) = self.items.get_mut(self.len) {
            *place = item;
            self.len += 1;
        }
    }

    fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        self.items.get(self.len).copied()
    }
}

impl<T: Copy, const N: usize> std::ops::Deref for Few<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

impl<T: Copy, const N: usize> std::ops::DerefMut for Few<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.items.get_mut(..self.len).unwrap_or(&mut [])
    }
}

/// A link destination: characters that would end it or break the line are escaped or
/// percent-encoded, and so is `|`, which would split a table cell.
#[cfg(test)]
fn destination(href: &str) -> String {
    let mut out = String::with_capacity(href.len());
    destination_into(&mut out, href);
    out
}

/// A link destination, written to `out`: characters that would end it or break the line are
/// escaped or percent-encoded, and so is `|`, which would split a table cell.
fn destination_into(out: &mut String, href: &str) {
    for c in href.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '<' | '>' | '|' | ' ' => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c if c.is_control() || c.is_whitespace() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
}

fn longest_run(text: &str, of: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == of { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// Inline code: a fence longer than any run of backticks inside, and spaces where the content
/// would otherwise touch the fence or lose its edges.
fn code_span(text: &str, in_table: bool) -> String {
    let mut out = String::new();
    code_span_into(&mut out, text, in_table);
    out
}

/// `code_span`, written to `out`. Line breaks in it are spaces.
fn code_span_into(out: &mut String, text: &str, in_table: bool) {
    if text.is_empty() {
        return;
    }
    let blank = |c: char| matches!(c, ' ' | '\n' | '\r');
    let ticks = longest_run(text, '`') + 1;
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(blank) && text.ends_with(blank) && !text.chars().all(blank));
    let fence = |out: &mut String| (0..ticks).for_each(|_| out.push('`'));
    fence(out);
    if pad {
        out.push(' ');
    }
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            // GitHub splits a row at every unescaped `|`, code or not.
            '|' if in_table => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    if pad {
        out.push(' ');
    }
    fence(out);
}

/// Where inline text stands in its line: Markdown reads some characters as syntax only at the
/// start of a line (`#`, `>`, `-`, `1.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Start,
    /// Digits only so far, so `.` or `)` would make an ordered list item.
    Digits(u8),
    Mid,
}

/// `s` escaped as text at the start of a line, outside a link.
fn escape_line_start(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_linking_into(&mut out, s, &mut Line::Start);
    out
}

/// `escape_into` for text outside a link. GitHub links a bare URL as it stands in the source,
/// escapes and all, so URLs are written as autolinks, inside which nothing is escaped.
/// A URL that may go on in the next text node (only characters it would drop follow it) is
/// returned: where it starts in `s`, and where its link starts in `out`.
fn escape_linking_into(out: &mut String, s: &str, line: &mut Line) -> Option<UrlTail> {
    let mut at = 0;
    let mut from = 0;
    let mut last = None;
    while let Some((start, end)) = next_url(s, from) {
        escape_into(out, s.get(at..start).unwrap_or(""), line);
        at = at.max(start);
        from = end;
        let url = s.get(start..end).unwrap_or("");
        if url.starts_with("www.") {
            // GitHub links a `www.` address only at the start of a word, as the character
            // before it in the source says; its escapes would show. It is written as a link.
            let word_start = out
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '*' | '_' | '~' | '('));
            if !word_start {
                from = start + 1;
                continue;
            }
            let bang = out.ends_with('!');
            if bang {
                out.pop();
                out.push_str("\\!");
            }
            last = Some((start, end, out.len(), bang));
            out.push('[');
            escape_into(out, url, &mut Line::Mid);
            out.push_str("](http://");
            destination_into(out, url);
            out.push(')');
        } else {
            last = Some((start, end, out.len(), false));
            out.push('<');
            out.push_str(url);
            out.push('>');
        }
        *line = Line::Mid;
        at = end;
    }
    escape_into(out, s.get(at..).unwrap_or(""), line);
    let (start, end, link, bang) = last?;
    let dropped = |c: char| {
        matches!(
            c,
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '_' | '~' | ')' | ']'
        )
    };
    let rest = s.get(end..)?;
    // What the URL dropped, or what it stopped at for an entity's name, which may go on.
    let name = |n: &str| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '#');
    let open = rest.chars().all(dropped) || rest.strip_prefix('&').is_some_and(name);
    open.then_some(UrlTail {
        start,
        link,
        end: out.len(),
        bang,
    })
}

/// A URL written as a link at the end of a text node, which the next text node may go on with.
#[derive(Debug, Clone, Copy)]
struct UrlTail {
    /// Where it starts in its text.
    start: usize,
    /// Where its link starts in the output, and where the output ended after the text.
    link: usize,
    end: usize,
    /// A `!` before it was escaped.
    bang: bool,
}

/// The bytes `escape_into` looks at: the characters it may escape, and line breaks. All ASCII,
/// so where one is found, a character starts.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = b"\\`*[]<~|_&(:\n\r";
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
};

/// Appends `s` to `out` with every character that Markdown could read as syntax escaped.
/// `line` is where `out` stands and follows `s`.
fn escape_into(out: &mut String, s: &str, line: &mut Line) {
    // Right after a bracketed atom (`[IN REVIEW]`), `(` would make a link and `:` a link
    // reference definition.
    let after_bracket = out.ends_with(']');
    let mut prev = out.chars().next_back();
    out.reserve(s.len());
    let mut at = 0;
    while let Some(rest) = s.get(at..) {
        let Some(c) = rest.chars().next() else { break };
        // Mid-line, text up to the next character Markdown could read as syntax (most text has
        // none) is copied whole: none of the rules below would change it, or the line's state.
        if matches!(line, Line::Mid) {
            let plain = rest
                .bytes()
                .position(|b| SPECIAL[usize::from(b)])
                .unwrap_or(rest.len());
            if plain > 0 {
                let run = rest.get(..plain).unwrap_or("");
                out.push_str(run);
                prev = run.chars().next_back();
                at += plain;
                continue;
            }
        }
        let next = rest.get(c.len_utf8()..).and_then(|r| r.chars().next());
        let blank_next = next.is_none_or(|n| n == ' ' || n == '\t');
        let escape = match (*line, c) {
            (Line::Start, '#') => blank_next || next == Some('#'),
            // `---`, `- item`, `===`, and `-:` or `:-`, which would make the line before it
            // a table's header.
            (Line::Start, '-' | '=') => blank_next || next == Some(c) || next == Some(':'),
            // At the end of the text, the next text node may go on with `-`.
            (Line::Start, ':') => next.is_none_or(|n| n == '-'),
            (Line::Start, '+') => blank_next,
            (Line::Start, '>') => true,
            (Line::Digits(_), '.' | ')') => blank_next,
            (_, '\\' | '`' | '*' | '[' | ']' | '<' | '~' | '|') => true,
            // `_` inside a word is never emphasis; `snake_case` reads better unescaped.
            (_, '_') => {
                !(prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
            }
            // At the end of the text, the next text node may go on with an entity's name.
            (_, '&') => next.is_none() || entity_follows(rest.get(1..).unwrap_or("")),
            (_, '(' | ':') => at == 0 && after_bracket,
            _ => false,
        };
        *line = match (*line, c) {
            (Line::Start, d) if d.is_ascii_digit() => Line::Digits(1),
            (Line::Digits(n), d) if d.is_ascii_digit() && n < 9 => Line::Digits(n + 1),
            _ => Line::Mid,
        };
        // Text reaching here holds no line breaks but attributes might: one would end the line.
        let c = if matches!(c, '\n' | '\r') { ' ' } else { c };
        if escape {
            out.push('\\');
        }
        out.push(c);
        prev = Some(c);
        at += c.len_utf8();
    }
}

/// Where the next URL in `text` after `from` starts and ends: an `http://`, `https://` or
/// `ftp://` one, or a `www.` address, which GitHub links too.
fn next_url(text: &str, from: usize) -> Option<(usize, usize)> {
    let scheme = next_scheme_url(text, from);
    match (scheme, next_www(text, from)) {
        (Some((start, _)), Some((www, end))) if www < start => Some((www, end)),
        (None, www) => www,
        (scheme, _) => scheme,
    }
}

/// Where the next `http://`, `https://` or `ftp://` URL in `text` after `from` starts and ends:
/// the schemes GitHub links bare.
fn next_scheme_url(text: &str, from: usize) -> Option<(usize, usize)> {
    let mut search = from;
    loop {
        let colon = scheme_end(text, search)?;
        search = colon + 3;
        let scheme = |name: &str| {
            colon.checked_sub(name.len()).filter(|&start| {
                text.get(start..colon)
                    .is_some_and(|s| s.eq_ignore_ascii_case(name))
            })
        };
        let Some(start) = scheme("https")
            .or_else(|| scheme("http"))
            .or_else(|| scheme("ftp"))
        else {
            continue;
        };
        let end = url_end(text, start, search);
        if end > search {
            return Some((start, end));
        }
    }
}

/// Where the next `www.` address in `text` after `from` starts and ends: `www.` and a host.
fn next_www(text: &str, from: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut at = from;
    loop {
        let start = at + memchr::memmem::find(b.get(at..)?, b"www.")?;
        let host = start + 4;
        let end = url_end(text, start, host);
        // A host's letters may be of any script: GitHub links `www.ärzte.de` too.
        let named = text
            .get(host..)
            .and_then(|h| h.chars().next())
            .is_some_and(char::is_alphanumeric);
        if end > host && named {
            return Some((start, end));
        }
        at = start + 1;
    }
}

/// Where a URL that starts at `start` ends, looking from `from` on. Like GitHub's autolinks, it
/// ends before whitespace and `<`, and without trailing punctuation or unbalanced closing
/// brackets; also before `>`, `"`, `` ` `` and `|`, which an autolink cannot hold or a table
/// would split at.
fn url_end(text: &str, start: usize, from: usize) -> usize {
    let Some(rest) = text.get(from..) else {
        return from;
    };
    // An autolink's text decodes entities: one in the URL is left to be escaped.
    let mut end = from
        + rest
            .char_indices()
            .find(|&(i, c)| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '<' | '>' | '"' | '`' | '|')
                    || (c == '&' && entity_follows(rest.get(i + 1..).unwrap_or("")))
            })
            .map_or(rest.len(), |(i, _)| i);
    let url = text.get(start..end).unwrap_or("");
    let mut parens = url.matches('(').count() as i64 - url.matches(')').count() as i64;
    let mut brackets = url.matches('[').count() as i64 - url.matches(']').count() as i64;
    while let Some(last) = text.get(from..end).and_then(|u| u.chars().next_back()) {
        let strip = match last {
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '_' | '~' => true,
            ')' if parens < 0 => {
                parens += 1;
                true
            }
            ']' if brackets < 0 => {
                brackets += 1;
                true
            }
            _ => false,
        };
        if !strip {
            break;
        }
        end -= last.len_utf8();
    }
    end
}

/// Where the first `://` in `text` from `from` on starts: found by its colon, which most text
/// has none of.
fn scheme_end(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut at = from;
    loop {
        let colon = at + memchr::memchr(b':', b.get(at..)?)?;
        if b.get(colon + 1..colon + 3) == Some(b"//") {
            return Some(colon);
        }
        at = colon + 1;
    }
}

/// Whether `&` before `rest` could start an entity (`&amp;`, `&#169;`), which Markdown would
/// decode. A name running to the end of `rest` might be finished by the next text node.
fn entity_follows(rest: &str) -> bool {
    let name = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
        .unwrap_or(rest.len());
    name > 0
        && rest
            .get(name..)
            .is_none_or(|r| r.is_empty() || r.starts_with(';'))
}

/// Whether CommonMark reads a run's delimiters as an opener and a closer: the opener must be
/// left-flanking, the closer right-flanking, and inside another `*` run neither may be read the
/// other way round, or it could pair with the outer run. Delimiters of other runs next to it
/// join its delimiter run, so the characters that count are the ones past them, unless those
/// delimiters turn into HTML tags: both must pass. Where readers differ, the cautious reading:
/// a symbol outside ASCII may or may not be punctuation (the spec's versions disagree), a line
/// separator whitespace (GitHub's parser says not), and GitHub's parser does not count `~` as
/// punctuation.
fn delimits(out: &str, run: &Run) -> bool {
    let len = run.delimiter.len();
    let d = if run.delimiter.starts_with('~') {
        '~'
    } else {
        '*'
    };
    let before = char_before(out, run.open, d);
    let first = char_after(out, run.open + len, d);
    let last = char_before(out, run.close, d);
    let after = char_after(out, run.close + len, d);
    // Whitespace to every reader: CommonMark's is Rust's less the vertical tab, U+0085 and the
    // line and paragraph separators.
    let space = |c: Option<char>| {
        c.is_none_or(|c| {
            c.is_whitespace() && !matches!(c, '\u{b}' | '\u{85}' | '\u{2028}' | '\u{2029}')
        })
    };
    let maybe_space = |c: Option<char>| c.is_none_or(char::is_whitespace);
    let punct = |c: Option<char>| c.is_some_and(|c| c.is_ascii_punctuation() && c != '~');
    // Neither whitespace nor punctuation in any reading: letters and digits, mostly.
    let word = |c: Option<char>| {
        c.is_some_and(|c| {
            (c.is_alphanumeric() || c.is_ascii()) && !c.is_ascii_punctuation() && !c.is_whitespace()
        })
    };
    // Left-flanking for certain, and not for certain, with `b` before the delimiter and `a`
    // after it; right-flanking is left-flanking seen from the other side.
    let left = |b, a| !maybe_space(a) && (word(a) || space(b) || punct(b));
    let not_left = |b, a| space(a) || (punct(a) && word(b));
    let all = |bs: [Option<char>; 2],
               as_: [Option<char>; 2],
               f: &dyn Fn(Option<char>, Option<char>) -> bool| {
        bs.iter().all(|&b| as_.iter().all(|&a| f(b, a)))
    };
    all(before, first, &left)
        && all(after, last, &left)
        && (!run.nested || (all(first, before, &not_left) && all(last, after, &not_left)))
}

/// The character before `at` past delimiters `d` (an escaped one is a character), and if there
/// were any, `>`: the end of the tag they may become.
fn char_before(out: &str, at: usize, d: char) -> [Option<char>; 2] {
    let mut chars = out.get(..at).unwrap_or("").chars().rev().peekable();
    let mut skipped = false;
    while let Some(c) = chars.next() {
        if c != d || chars.peek() == Some(&'\\') {
            return [Some(c), if skipped { Some('>') } else { Some(c) }];
        }
        skipped = true;
    }
    [None, if skipped { Some('>') } else { None }]
}

/// The character from `at` on past delimiters `d` (an escaped one starts with `\`), and if
/// there were any, `<`: the start of the tag they may become.
fn char_after(out: &str, at: usize, d: char) -> [Option<char>; 2] {
    let rest = out.get(at..).unwrap_or("");
    let next = rest.chars().find(|&c| c != d);
    let skipped = rest.starts_with(d);
    [next, if skipped { Some('<') } else { next }]
}

/// What a line break turns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A paragraph: a real line break.
    Flow,
    /// A heading: a space.
    Heading,
    /// A table cell: `<br>` (a space in plain text).
    Cell,
}

/// Whitespace and line breaks held back until the next content: whitespace at the edge of a
/// marked run goes outside its delimiters (`**bold** text`, not `**bold **text`), and none is
/// written at the end of a paragraph.
#[derive(Debug, Clone, Copy)]
enum Gap {
    None,
    /// The whitespace in `Inline::space`.
    Space,
    Breaks(usize),
}

/// Text marked with delimiters (`**`, `*`, `~~`): where its opener and its closer start in
/// the output.
struct Run {
    /// Its delimiter (`**`), and the HTML tags it becomes where it would not be read as one.
    delimiter: &'static str,
    tags: (&'static str, &'static str),
    open: usize,
    close: usize,
    /// Inside another `*` run.
    nested: bool,
}

/// Bytes a run of inline nodes is given room for up front.
const INLINE_ROOM: usize = 256;

/// Writes a run of inline nodes: text, atoms and the marks around them.
struct Inline<'t> {
    markdown: bool,
    mode: Mode,
    in_table: bool,
    out: String,
    /// Marks whose opener is written, outermost first, with where the opener starts.
    open: Few<(Mark<'t>, usize), MARK_KINDS>,
    /// Delimited runs written, to check once the text on both sides of them is known.
    runs: Vec<Run>,
    gap: Gap,
    /// The whitespace a `Gap::Space` holds back: one buffer for the whole run.
    space: String,
    line: Line,
    /// The marks of code text gathered across adjacent text nodes, written as one code span,
    /// and the text.
    code: Option<Marks<'t>>,
    code_text: String,
    /// A link on content that showed nothing (a space, a line break): written with its URL as
    /// its text, unless the content after it goes on in the link.
    bare: Option<Mark<'t>>,
    /// A URL that ended the last text written, and its text from its start: the next text
    /// node may go on with it.
    url: Option<UrlTail>,
    url_text: String,
}

/// The buffers of a finished `Inline`, which the next one on the thread writes in: most
/// paragraphs then allocate nothing.
#[derive(Default)]
struct Spare {
    out: String,
    runs: Vec<Run>,
    space: String,
    code_text: String,
    url_text: String,
}

thread_local! {
    static SPARE: Cell<Spare> = Cell::default();
}

impl Spare {
    fn take() -> Spare {
        let mut spare = SPARE.take();
        spare.out.clear();
        // Room for a typical paragraph, so that it seldom grows.
        spare.out.reserve(INLINE_ROOM);
        spare.runs.clear();
        spare.space.clear();
        spare.code_text.clear();
        spare.url_text.clear();
        spare
    }

    /// Keeps the buffers for the next `Inline`, unless a huge paragraph grew them.
    fn keep(self) {
        let bytes = self.out.capacity()
            + self.space.capacity()
            + self.code_text.capacity()
            + self.url_text.capacity()
            + self.runs.capacity() * std::mem::size_of::<Run>();
        if bytes <= MAX_SCRATCH {
            SPARE.set(self);
        }
    }
}

impl<'t> Inline<'t> {
    fn new(markdown: bool, mode: Mode, in_table: bool) -> Inline<'t> {
        let spare = Spare::take();
        Inline {
            markdown,
            mode,
            in_table,
            out: spare.out,
            open: Few::new((Mark::Strong, 0)),
            runs: spare.runs,
            gap: Gap::None,
            space: spare.space,
            line: if mode == Mode::Flow {
                Line::Start
            } else {
                Line::Mid
            },
            code: None,
            code_text: spare.code_text,
            bare: None,
            url: None,
            url_text: spare.url_text,
        }
    }

    fn text(&mut self, marks: &[Mark<'t>], text: &str) {
        // Most text is one line: found with one look for either line break.
        if memchr::memchr2(b'\n', b'\r', text.as_bytes()).is_none() {
            self.words(marks, text);
            return;
        }
        let text = if text.contains('\r') {
            Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            Cow::Borrowed(text)
        };
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.line_break();
            }
            self.words(marks, line);
        }
    }

    /// An atom's text (a mention's name, an emoji): no URL goes on in it, or from it.
    fn label(&mut self, marks: &[Mark<'t>], text: &str) {
        self.url = None;
        self.text(marks, text);
        self.url = None;
    }

    /// Text of one line: its edges' whitespace goes to the gap.
    fn words(&mut self, marks: &[Mark<'t>], text: &str) {
        self.flush_code();
        let core = text.trim();
        if core.is_empty() {
            self.space(text);
            self.blank(marks);
            return;
        }
        let start = text.len() - text.trim_start().len();
        let linked = marks.iter().any(|m| matches!(m, Mark::Link(_)));
        if let Some(url) = self.url.take()
            && start == 0
            && !linked
            && let Some(taken) = self.continues(url, core)
        {
            // What follows the URL, in this text's marks.
            self.words(marks, text.get(taken..).unwrap_or(""));
            return;
        }
        self.space(text.get(..start).unwrap_or(""));
        self.begin(marks);
        if !self.markdown {
            self.out.push_str(core);
        } else if linked {
            // Link text is never an autolink: escapes work in it.
            escape_into(&mut self.out, core, &mut self.line);
        } else if let Some(url) = escape_linking_into(&mut self.out, core, &mut self.line) {
            self.url_text.clear();
            self.url_text.push_str(core.get(url.start..).unwrap_or(""));
            self.url = Some(url);
        }
        self.space(text.get(start + core.len()..).unwrap_or(""));
    }

    /// Whether the URL that ended the text before goes on in `core`, text right after it (Jira
    /// splits text where its marks change, or where it was edited): then the URL is written
    /// again, whole, in the marks of the text it starts in, and the bytes of `core` it took
    /// are returned.
    #[cold]
    #[inline(never)]
    fn continues(&mut self, url: UrlTail, core: &str) -> Option<usize> {
        let untouched = matches!(self.gap, Gap::None)
            && self.bare.is_none()
            && self.out.len() == url.end
            && core.starts_with(|c: char| !c.is_whitespace());
        if !untouched {
            return None;
        }
        let joined = self.url_text.len();
        self.url_text.push_str(core);
        let end = match next_url(&self.url_text, 0) {
            Some((0, end)) if end > joined => end,
            _ => return None,
        };
        self.out.truncate(url.link);
        if url.bang {
            // Undone: written again, the link escapes it again.
            self.out.truncate(url.link.saturating_sub(2));
            self.out.push('!');
        }
        let mut text = std::mem::take(&mut self.url_text);
        text.truncate(end);
        let tail = escape_linking_into(&mut self.out, &text, &mut self.line);
        self.url_text = text;
        self.url = tail;
        Some(end - joined)
    }

    fn space(&mut self, ws: &str) {
        if ws.is_empty() {
            return;
        }
        self.flush_code();
        if self.out.is_empty() {
            return;
        }
        match self.gap {
            Gap::None => {
                self.space.clear();
                self.space.push_str(ws);
                self.gap = Gap::Space;
            }
            Gap::Space => self.space.push_str(ws),
            Gap::Breaks(_) => {}
        }
    }

    fn line_break(&mut self) {
        self.flush_code();
        if self.out.is_empty() {
            return;
        }
        self.gap = match self.gap {
            Gap::Breaks(n) => Gap::Breaks(n + 1),
            _ => Gap::Breaks(1),
        };
    }

    /// After content that shows nothing: a link on it would leave no trace, so it is held for
    /// `write_bare`.
    #[inline]
    fn blank(&mut self, marks: &[Mark<'t>]) {
        if marks.iter().any(|m| matches!(m, Mark::Link(_))) {
            self.hold_link(marks);
        }
    }

    /// `blank` for content under a link: seldom met, kept out of the path every text takes.
    #[cold]
    #[inline(never)]
    fn hold_link(&mut self, marks: &[Mark<'t>]) {
        let link = marks.iter().find(|m| matches!(m, Mark::Link(_)));
        let Some(&link) = link.filter(|l| self.markdown && !self.open.iter().any(|(m, _)| m == *l))
        else {
            return;
        };
        if self.bare != Some(link) {
            self.flush_code();
            self.write_bare();
            self.bare = Some(link);
        }
    }

    /// Before content, a held link: it goes on in this content, or is written before it.
    #[cold]
    #[inline(never)]
    fn settle_bare(&mut self, marks: &[Mark<'t>]) {
        if let Some(link) = self.bare {
            if marks.contains(&link) {
                self.bare = None;
            } else {
                self.write_bare();
            }
        }
    }

    /// The held link, with its URL as its text (as a card without a name), set apart by spaces,
    /// or before the line break it was on.
    fn write_bare(&mut self) {
        let Some(link @ Mark::Link(href)) = self.bare.take() else {
            return;
        };
        let breaks = match self.gap {
            Gap::Breaks(n) => Some(n),
            _ => None,
        };
        if breaks.is_some() || (matches!(self.gap, Gap::None) && !self.out.is_empty()) {
            self.space.clear();
            self.space.push(' ');
            self.gap = Gap::Space;
        }
        self.begin(&[link]);
        escape_into(&mut self.out, href, &mut self.line);
        self.close_last();
        self.space.clear();
        self.space.push(' ');
        self.gap = breaks.map_or(Gap::Space, Gap::Breaks);
    }

    /// Before content: closes the marks it does not have, writes the gap, opens its new marks.
    fn begin(&mut self, marks: &[Mark<'t>]) {
        if self.bare.is_some() {
            self.settle_bare(marks);
        }
        let keep = self
            .open
            .iter()
            .take_while(|(m, _)| marks.contains(m))
            .count();
        while self.open.len() > keep {
            self.close_last();
        }
        match std::mem::replace(&mut self.gap, Gap::None) {
            Gap::None => {}
            Gap::Space => self.out.push_str(&self.space),
            Gap::Breaks(n) => {
                let text = match (self.mode, self.markdown) {
                    (Mode::Flow, true) => "\\\n",
                    (Mode::Flow, false) => "\n",
                    (Mode::Cell, true) => "<br>",
                    _ => " ",
                };
                for _ in 0..n {
                    self.out.push_str(text);
                }
                if self.mode == Mode::Flow {
                    self.line = Line::Start;
                }
            }
        }
        if !self.markdown {
            return;
        }
        for mark in marks {
            if !self.open.iter().any(|(m, _)| m == mark) {
                if matches!(mark, Mark::Link(_)) {
                    self.guard_bang();
                }
                self.open.push((*mark, self.out.len()));
                self.out.push_str(mark.opener());
                self.line = Line::Mid;
            }
        }
    }

    fn close_last(&mut self) {
        if let Some((mark, open)) = self.open.pop() {
            let close = self.out.len();
            mark.write_closer(&mut self.out);
            if let Some(tags) = mark.html() {
                let stars = |m: &Mark| matches!(m, Mark::Strong | Mark::Em);
                let nested = stars(&mark) && self.open.iter().any(|(m, _)| stars(m));
                self.runs.push(Run {
                    delimiter: mark.opener(),
                    tags,
                    open,
                    close,
                    nested,
                });
            }
        }
    }

    /// A `!` right before `[` would turn a link into an image.
    fn guard_bang(&mut self) {
        if self.out.ends_with('!') {
            self.out.pop();
            self.out.push_str("\\!");
        }
    }

    /// Content written as it is: already escaped, or plain text.
    fn atom(&mut self, marks: &[Mark<'t>], raw: &str) {
        self.flush_code();
        if raw.is_empty() {
            return;
        }
        self.begin(marks);
        if self.markdown && raw.starts_with('[') {
            self.guard_bang();
        }
        self.out.push_str(raw);
        self.line = Line::Mid;
    }

    fn code(&mut self, marks: &[Mark<'t>], text: &str) {
        // In a link's text, a `]` in code would let a paragraph starting with the link read as
        // a link reference definition (`[`a]: b`](url)`), since those ignore code spans.
        let in_link = marks.iter().any(|m| matches!(m, Mark::Link(_)));
        if !self.markdown || (in_link && text.contains(']')) {
            self.text(marks, text);
            return;
        }
        match &self.code {
            Some(open) if **open == *marks => {}
            _ => {
                self.flush_code();
                let mut open = Marks::none();
                marks.iter().for_each(|&mark| open.push(mark));
                self.code = Some(open);
            }
        }
        self.code_text.push_str(text);
    }

    fn flush_code(&mut self) {
        if let Some(marks) = self.code.take() {
            if !self.code_text.is_empty() {
                self.begin(&marks);
                code_span_into(&mut self.out, &self.code_text, self.in_table);
                self.line = Line::Mid;
            } else {
                self.blank(&marks);
            }
            self.code_text.clear();
        }
    }

    /// Appends the run to `out`.
    fn finish_into(mut self, out: &mut String) {
        self.flush_code();
        self.write_bare();
        while !self.open.is_empty() {
            self.close_last();
        }
        // Delimiters that CommonMark would not read as such, for the characters around them
        // (`a**(b)**c`), are replaced by HTML tags.
        let mut edits = Vec::new();
        for run in &self.runs {
            if !delimits(&self.out, run) {
                let (open_tag, close_tag) = run.tags;
                edits.push((run.open, run.delimiter.len(), open_tag));
                edits.push((run.close, run.delimiter.len(), close_tag));
            }
        }
        edits.sort_by_key(|&(at, _, _)| at);
        let mut copied = 0;
        for (at, len, tag) in edits {
            if let Some(kept) = self.out.get(copied..at) {
                out.push_str(kept);
                out.push_str(tag);
                copied = at + len;
            }
        }
        out.push_str(self.out.get(copied..).unwrap_or(""));
        Spare {
            out: self.out,
            runs: self.runs,
            space: self.space,
            code_text: self.code_text,
            url_text: self.url_text,
        }
        .keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn md(content: Value) -> String {
        render(
            &json!({"type": "doc", "version": 1, "content": content}),
            TextStyle::Markdown,
        )
        .unwrap_or_default()
    }

    fn text(s: &str) -> Value {
        json!({"type": "paragraph", "content": [{"type": "text", "text": s}]})
    }

    #[test]
    fn only_documents_render() {
        assert_eq!(
            render(&json!({"type": "paragraph"}), TextStyle::Plain),
            None
        );
        assert_eq!(render(&json!("doc"), TextStyle::Plain), None);
        assert_eq!(
            render(&json!({"type": "doc"}), TextStyle::Plain),
            Some(String::new())
        );
    }

    #[test]
    fn text_reads_as_a_value_does() {
        let texts = [
            // Escapes in keys and strings, decoded.
            r#"{"type":"doc","content":[{"ty\u0070e":"paragraph","content":[
                {"type":"text","text":"a\"b \u00e9\n\ud83d\ude00 c\\"}]}]}"#,
            // A repeated key: the last wins.
            r#"{"type":"doc","content":[{"type":"text","text":"first","text":"last"}]}"#,
            // Numbers however written, and values of the wrong type.
            r#"{"type":"doc","content":[{"type":"orderedList","attrs":{"order":3e0},"content":[
                {"type":"listItem","content":[{"type":"date","attrs":{"timestamp":1.7e12}},
                {"type":"date","attrs":{"timestamp":-1}},{"type":"heading","attrs":{"level":2.5},
                "content":[{"type":"text","text":"h"}]},{"type":"status","attrs":{"text":null}},
                {"type":"mention","attrs":{"text":true,"id":"x"}}]}]}]}"#,
        ];
        for text in texts {
            let value: Value = serde_json::from_str(text).unwrap();
            for style in [TextStyle::Markdown, TextStyle::Plain] {
                let from_text = render_json(text, style);
                assert!(from_text.is_some(), "{text}");
                assert_eq!(from_text, render(&value, style), "{text}");
            }
        }
        // Deeper than serde_json reads: refused, as the text was before.
        let deep = format!(
            r#"{{"type":"doc","content":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(render_json(&deep, TextStyle::Markdown), None);
    }

    #[test]
    fn line_start_syntax_is_escaped() {
        assert_eq!(md(json!([text("# not heading")])), "\\# not heading");
        assert_eq!(md(json!([text("1. not a list")])), "1\\. not a list");
        assert_eq!(md(json!([text("1.5 hours")])), "1.5 hours");
        assert_eq!(md(json!([text("- not an item")])), "\\- not an item");
        assert_eq!(md(json!([text("-5 degrees")])), "-5 degrees");
        assert_eq!(
            md(json!([text(":-: a table's delimiter row")])),
            "\\:-: a table's delimiter row"
        );
        assert_eq!(
            md(json!([text("-: too, but not -: here")])),
            "\\-: too, but not -: here"
        );
        assert_eq!(md(json!([text("> not quoted")])), "\\> not quoted");
        assert_eq!(md(json!([text("C# and F#")])), "C# and F#");
    }

    #[test]
    fn inline_syntax_is_escaped() {
        assert_eq!(
            md(json!([text("*not bold* [x](y)")])),
            "\\*not bold\\* \\[x\\](y)"
        );
        assert_eq!(md(json!([text("snake_case _x_")])), "snake_case \\_x\\_");
        assert_eq!(
            md(json!([text("a <b> &amp; c & d AT&T")])),
            "a \\<b> \\&amp; c & d AT\\&T"
        );
        assert_eq!(
            md(json!([text("AT&T stays, &#169; does not")])),
            "AT&T stays, \\&#169; does not"
        );
        assert_eq!(
            md(json!([text("~~x~~ `y` a|b \\")])),
            "\\~\\~x\\~\\~ \\`y\\` a\\|b \\\\"
        );
    }

    #[test]
    fn code_spans_fit_their_content() {
        assert_eq!(code_span("a", false), "`a`");
        assert_eq!(code_span("a `b` c", false), "``a `b` c``");
        assert_eq!(code_span("`x", false), "`` `x ``");
        assert_eq!(code_span(" x ", false), "`  x  `");
        assert_eq!(code_span("   ", false), "`   `");
        assert_eq!(code_span("a|b", true), "`a\\|b`");
    }

    #[test]
    fn destinations_stay_one_token() {
        assert_eq!(
            destination("https://x/a b(c)|d"),
            "https://x/a%20b\\(c\\)%7Cd"
        );
        assert_eq!(destination("x\ny"), "x%0Ay");
    }

    #[test]
    fn bare_urls_become_autolinks() {
        assert_eq!(
            md(json!([text(
                "see https://x.com/_layouts/a~b_(c)). or HTTP://y.org/*x*, then"
            )])),
            "see <https://x.com/_layouts/a~b_(c)>). or <HTTP://y.org/*x>\\*, then"
        );
        assert_eq!(
            md(json!([text("http:// alone, ftp://x, ssh://x")])),
            "http:// alone, <ftp://x>, ssh://x"
        );
    }

    fn marked(pieces: &[(&str, &[&str])]) -> Value {
        let content: Vec<Value> = pieces
            .iter()
            .map(|(text, marks)| {
                let marks: Vec<Value> = marks.iter().map(|m| json!({"type": m})).collect();
                json!({"type": "text", "text": text, "marks": marks})
            })
            .collect();
        json!([{"type": "paragraph", "content": content}])
    }

    #[test]
    fn delimiters_that_would_not_parse_become_tags() {
        let doc = marked(&[("a", &[]), ("(b)", &["strong"]), ("c", &[])]);
        assert_eq!(md(doc), "a<strong>(b)</strong>c");
        let doc = marked(&[("a ", &[]), ("(b)", &["strong"]), (", c", &[])]);
        assert_eq!(md(doc), "a **(b)**, c");
        let doc = marked(&[
            ("bold ", &["strong"]),
            ("both", &["strong", "em"]),
            ("!", &[]),
        ]);
        assert_eq!(md(doc), "**bold *both***!");
    }

    /// CommonMark counts tabs, line breaks and the spaces (Zs) as whitespace, not the line and
    /// paragraph separators: `**` between one and punctuation is not read as a delimiter.
    #[test]
    fn separators_are_not_whitespace_to_delimiters() {
        let doc = marked(&[
            ("Note:\u{2028}", &[]),
            ("\"Done\"", &["strong"]),
            ("\u{2029}next", &[]),
        ]);
        assert_eq!(
            md(doc),
            "Note:\u{2028}<strong>\"Done\"</strong>\u{2029}next"
        );
    }

    #[test]
    fn code_with_a_bracket_in_link_text_is_text() {
        let doc = json!([{"type": "paragraph", "content": [{"type": "text", "text": "a]: b",
            "marks": [{"type": "code"}, {"type": "link", "attrs": {"href": "https://x"}}]}]}]);
        assert_eq!(md(doc), "[a\\]: b](https://x)");
    }

    /// A link whose text shows nothing (a space, no text, a line break, empty code, an atom
    /// without a label) keeps its URL, written as its text as a card without a name is.
    #[test]
    fn a_link_on_no_text_keeps_its_url() {
        let link = |href: &str| json!([{"type": "link", "attrs": {"href": href}}]);
        let x = link("https://example.com/x");
        let shown = "[https://example.com/x](https://example.com/x)";
        let para = |content: Value| md(json!([{"type": "paragraph", "content": content}]));
        let plain = |s: &str| json!({"type": "text", "text": s});
        let linked = |s: &str| json!({"type": "text", "text": s, "marks": x});
        assert_eq!(
            para(json!([plain("a"), linked(" "), plain("b")])),
            format!("a {shown} b")
        );
        for alone in [
            linked(" "),
            linked(""),
            linked("\n"),
            json!({"type": "text", "text": "",
                "marks": [{"type": "code"}, {"type": "link", "attrs": {"href": "https://example.com/x"}}]}),
            json!({"type": "status", "attrs": {"text": ""}, "marks": x}),
        ] {
            assert_eq!(para(json!([alone])), shown, "{alone}");
        }
        assert_eq!(
            para(json!([plain("a"), {"type": "hardBreak", "marks": x}, plain("b")])),
            format!("a {shown}\\\nb")
        );
        assert_eq!(
            para(json!([{"type": "text", "text": " ", "marks": link("https://e.com/a b(c)<d>")}])),
            "[https://e.com/a b(c)\\<d>](https://e.com/a%20b\\(c\\)%3Cd%3E)"
        );
        // A blank that is part of a link's text stays in it, as before.
        assert_eq!(
            para(json!([
                linked(" "),
                linked("go"),
                linked(" "),
                linked("on"),
                linked(" ")
            ])),
            "[go on](https://example.com/x)"
        );
        assert_eq!(
            para(json!([plain("a "), linked(" "), linked("go")])),
            "a  [go](https://example.com/x)"
        );
    }

    #[test]
    fn whitespace_moves_out_of_marks() {
        let doc = json!([{"type": "paragraph", "content": [
            {"type": "text", "text": "bold ", "marks": [{"type": "strong"}]},
            {"type": "text", "text": "text"}
        ]}]);
        assert_eq!(md(doc), "**bold** text");
    }
}
