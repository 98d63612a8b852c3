//! Rich text, generated once as a small document model and written either as an ADF document
//! (REST v3) or as a wiki-markup string (REST v2 and Server), so both versions say the same.

use serde_json::{Value, json};

use crate::render::Ctx;
use crate::rng::{Rng, RngExt, pick, stream};
use crate::site::words;

/// `(shortName, id, text, wiki)`.
const EMOJI: &[(&str, &str, &str, &str)] = &[
    (":smile:", "1f604", "😄", ":D"),
    (":thumbsup:", "1f44d", "👍", "(y)"),
    (":warning:", "atlassian-warning", ":warning:", "(!)"),
];

const LANGUAGES: &[&str] = &["rust", "sql", "bash", "json"];

const SNIPPETS: &[&str] = &[
    "SELECT id, status\nFROM jobs\nWHERE started_at < now() - interval '1 hour';",
    "curl -s \"$BASE/health\" | jq .status",
    "{\"retry\": 3, \"backoff_ms\": 250}",
    "let page = client.next_page(token).await?;",
];

enum Inline {
    Text(String),
    Strong(String),
    Em(String),
    Code(String),
    Link { text: String, href: String },
    Mention(usize),
    Emoji(usize),
    HardBreak,
}

enum Block {
    Paragraph(Vec<Inline>),
    Heading(u8, String),
    Bullets(Vec<String>),
    Code(&'static str, &'static str),
    Panel(String),
}

/// A generated rich-text document.
pub(crate) struct Doc {
    blocks: Vec<Block>,
}

/// How much a document holds: a short comment, or a full description.
#[derive(Clone, Copy)]
pub(crate) enum Size {
    Short,
    Long,
}

impl Doc {
    /// The document seeded by `seed`; mentions pick among the first `humans` users.
    pub fn generate(seed: u64, humans: usize, size: Size) -> Doc {
        let mut rng = stream(seed, &[]);
        let count = match size {
            Size::Short => rng.random_range(1..=2),
            Size::Long => rng.random_range(1..=5),
        };
        let blocks = (0..count)
            .map(|k| {
                if k == 0 {
                    return Block::Paragraph(paragraph(&mut rng, humans));
                }
                match rng.random_range(0..6) {
                    0 => Block::Heading(rng.random_range(2..=3), words::phrase(&mut rng)),
                    1 => Block::Bullets(
                        (0..rng.random_range(2..=4))
                            .map(|_| words::phrase(&mut rng))
                            .collect(),
                    ),
                    2 => Block::Code(pick(&mut rng, LANGUAGES), pick(&mut rng, SNIPPETS)),
                    3 => Block::Panel(words::sentence(&mut rng)),
                    _ => Block::Paragraph(paragraph(&mut rng, humans)),
                }
            })
            .collect();
        Doc { blocks }
    }

    /// ADF on v3, wiki markup on v2.
    pub fn render(&self, ctx: &Ctx) -> Value {
        if ctx.adf() {
            self.to_adf(ctx)
        } else {
            Value::String(self.to_wiki(ctx))
        }
    }

    pub fn to_adf(&self, ctx: &Ctx) -> Value {
        let content: Vec<Value> = self.blocks.iter().map(|b| block_adf(ctx, b)).collect();
        json!({ "type": "doc", "version": 1, "content": content })
    }

    pub fn to_wiki(&self, ctx: &Ctx) -> String {
        self.blocks
            .iter()
            .map(|b| block_wiki(ctx, b))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The text alone, for `renderedFields`-style HTML.
    pub fn to_html(&self, ctx: &Ctx) -> String {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Heading(level, text) => format!("<h{level}>{}</h{level}>", escape(text)),
                Block::Bullets(items) => format!(
                    "<ul>{}</ul>",
                    items
                        .iter()
                        .map(|i| format!("<li>{}</li>", escape(i)))
                        .collect::<String>()
                ),
                Block::Code(_, code) => format!("<pre>{}</pre>", escape(code)),
                Block::Panel(text) => format!("<div class=\"panel\"><p>{}</p></div>", escape(text)),
                Block::Paragraph(inlines) => format!(
                    "<p>{}</p>",
                    inlines
                        .iter()
                        .map(|i| escape(&inline_plain(ctx, i)))
                        .collect::<String>()
                ),
            })
            .collect()
    }
}

fn paragraph(rng: &mut Rng, humans: usize) -> Vec<Inline> {
    let mut inlines = Vec::new();
    if rng.random_bool(0.3) {
        // Jira keeps the no-break space people type after bold text.
        inlines.push(Inline::Strong(words::phrase(rng)));
        inlines.push(Inline::Text(format!("\u{a0}{}", words::sentence(rng))));
    } else {
        inlines.push(Inline::Text(words::sentence(rng)));
    }
    let extra = match rng.random_range(0..8) {
        0 => vec![Inline::Mention(rng.random_range(0..humans.max(1)))],
        1 => vec![Inline::Emoji(rng.random_range(0..EMOJI.len()))],
        2 => vec![Inline::Link {
            text: "runbook".to_string(),
            href: format!(
                "https://wiki.example.com/runbooks/{}",
                rng.random_range(100..999)
            ),
        }],
        3 => vec![Inline::Code("retry_after".to_string())],
        4 => vec![Inline::HardBreak, Inline::Em(words::sentence(rng))],
        _ => Vec::new(),
    };
    if matches!(extra.first(), Some(inline) if !matches!(inline, Inline::HardBreak)) {
        inlines.push(Inline::Text(" ".to_string()));
    }
    inlines.extend(extra);
    inlines
}

fn text_node(text: &str, mark: Option<Value>) -> Value {
    match mark {
        Some(mark) => json!({ "type": "text", "text": text, "marks": [mark] }),
        None => json!({ "type": "text", "text": text }),
    }
}

fn inline_adf(ctx: &Ctx, inline: &Inline) -> Value {
    match inline {
        Inline::Text(t) => text_node(t, None),
        Inline::Strong(t) => text_node(t, Some(json!({ "type": "strong" }))),
        Inline::Em(t) => text_node(t, Some(json!({ "type": "em" }))),
        Inline::Code(t) => text_node(t, Some(json!({ "type": "code" }))),
        Inline::Link { text, href } => text_node(
            text,
            Some(json!({ "type": "link", "attrs": { "href": href } })),
        ),
        Inline::Mention(user) => {
            let user = &ctx.site.users()[*user];
            json!({
                "type": "mention",
                "attrs": { "id": user.account_id, "text": format!("@{}", user.display_name), "accessLevel": "" }
            })
        }
        Inline::Emoji(e) => {
            let (short_name, id, text, _) = EMOJI[*e];
            json!({ "type": "emoji", "attrs": { "shortName": short_name, "id": id, "text": text } })
        }
        Inline::HardBreak => json!({ "type": "hardBreak" }),
    }
}

fn paragraph_adf(content: Vec<Value>) -> Value {
    json!({ "type": "paragraph", "content": content })
}

fn block_adf(ctx: &Ctx, block: &Block) -> Value {
    match block {
        Block::Paragraph(inlines) => {
            paragraph_adf(inlines.iter().map(|i| inline_adf(ctx, i)).collect())
        }
        Block::Heading(level, text) => json!({
            "type": "heading", "attrs": { "level": level }, "content": [text_node(text, None)]
        }),
        Block::Bullets(items) => json!({
            "type": "bulletList",
            "content": items.iter().map(|item| json!({
                "type": "listItem", "content": [paragraph_adf(vec![text_node(item, None)])]
            })).collect::<Vec<_>>()
        }),
        Block::Code(language, code) => json!({
            "type": "codeBlock", "attrs": { "language": language }, "content": [text_node(code, None)]
        }),
        Block::Panel(text) => json!({
            "type": "panel", "attrs": { "panelType": "info" },
            "content": [paragraph_adf(vec![text_node(text, None)])]
        }),
    }
}

fn inline_wiki(ctx: &Ctx, inline: &Inline) -> String {
    match inline {
        Inline::Text(t) => t.clone(),
        Inline::Strong(t) => format!("*{t}*"),
        Inline::Em(t) => format!("_{t}_"),
        Inline::Code(t) => format!("{{{{{t}}}}}"),
        Inline::Link { text, href } => format!("[{text}|{href}]"),
        Inline::Mention(user) => {
            let user = &ctx.site.users()[*user];
            if ctx.cloud() {
                format!("[~accountid:{}]", user.account_id)
            } else {
                format!("[~{}]", user.name)
            }
        }
        Inline::Emoji(e) => EMOJI[*e].3.to_string(),
        Inline::HardBreak => "\n".to_string(),
    }
}

fn inline_plain(ctx: &Ctx, inline: &Inline) -> String {
    match inline {
        Inline::Strong(t) | Inline::Em(t) | Inline::Code(t) | Inline::Text(t) => t.clone(),
        Inline::Link { text, .. } => text.clone(),
        Inline::Mention(user) => format!("@{}", ctx.site.users()[*user].display_name),
        Inline::Emoji(e) => EMOJI[*e].2.to_string(),
        Inline::HardBreak => "\n".to_string(),
    }
}

fn block_wiki(ctx: &Ctx, block: &Block) -> String {
    match block {
        Block::Paragraph(inlines) => inlines.iter().map(|i| inline_wiki(ctx, i)).collect(),
        Block::Heading(level, text) => format!("h{level}. {text}"),
        Block::Bullets(items) => items
            .iter()
            .map(|i| format!("* {i}"))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Code(language, code) => format!("{{code:{language}}}\n{code}\n{{code}}"),
        Block::Panel(text) => format!("{{panel:bgColor=#deebff}}\n{text}\n{{panel}}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
