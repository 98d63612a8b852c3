//! `--about`: name, version, capabilities and every setting, rendered from `config::SETTINGS` as
//! text, JSON (Meltano's format) or Markdown.

use serde_json::{Map, Value, json};

use crate::catalog::METADATA_KEYS;
use crate::config::SETTINGS;

pub const CAPABILITIES: &[&str] = &["catalog", "discover", "state", "about", "properties"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

pub fn render(format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(&as_json()).unwrap_or_default(),
        Format::Markdown => markdown(),
        Format::Text => text(),
    }
}

fn as_json() -> Value {
    let mut properties = Map::new();
    for s in SETTINGS {
        let mut p = json!({"type": ["string", "null"], "description": s.description});
        p["type"] = json!([s.kind.json_type(), "null"]);
        if let Some(default) = s.default {
            p["default"] = json!(default);
        }
        if s.is_secret() {
            p["secret"] = json!(true);
            p["writeOnly"] = json!(true);
        }
        properties.insert(s.name.into(), p);
    }
    json!({
        "name": "tap-jira",
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "version": env!("CARGO_PKG_VERSION"),
        "capabilities": CAPABILITIES,
        "settings": {"type": "object", "properties": properties},
        "metadata": METADATA_KEYS
            .iter()
            .map(|(key, meaning)| (key.to_string(), json!(meaning)))
            .collect::<Map<String, Value>>(),
    })
}

fn markdown() -> String {
    let mut out = format!(
        "# tap-jira {}\n\n{}\n\n## Capabilities\n\n{}\n\n## Settings\n\n| Setting | Type | Default | Description |\n| --- | --- | --- | --- |\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        CAPABILITIES
            .iter()
            .map(|c| format!("- `{c}`"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for s in SETTINGS {
        let kind = if s.is_secret() {
            "secret"
        } else {
            s.kind.json_type()
        };
        out.push_str(&format!(
            "| `{}` | {kind} | {} | {} |\n",
            s.name,
            s.default.unwrap_or(""),
            s.description.replace('|', "\\|")
        ));
    }
    out.push_str("\n## Catalog metadata\n\n| Key | Meaning |\n| --- | --- |\n");
    for (key, meaning) in METADATA_KEYS {
        out.push_str(&format!("| `{key}` | {} |\n", meaning.replace('|', "\\|")));
    }
    out
}

fn text() -> String {
    let mut out = format!(
        "tap-jira {}: {}\ncapabilities: {}\nsettings:\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_DESCRIPTION"),
        CAPABILITIES.join(", ")
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "  {}{}: {}\n",
            s.name,
            if s.is_secret() { " (secret)" } else { "" },
            s.description
        ));
    }
    out.push_str("catalog metadata:\n");
    for (key, meaning) in METADATA_KEYS {
        out.push_str(&format!("  {key}: {meaning}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_and_metadata_key_is_listed_and_in_the_readme() {
        let readme = include_str!("../README.md");
        for format in [Format::Text, Format::Json, Format::Markdown] {
            let about = render(format);
            for name in SETTINGS.iter().map(|s| s.name) {
                assert!(about.contains(name), "{format:?} lacks {name}");
            }
            for (key, _) in METADATA_KEYS {
                assert!(about.contains(key), "{format:?} lacks {key}");
            }
        }
        for name in SETTINGS.iter().map(|s| s.name) {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README lacks `{name}`"
            );
        }
        for (key, _) in METADATA_KEYS {
            assert!(readme.contains(key), "README lacks {key}");
        }
    }
}
