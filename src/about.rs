//! `--about`: name, version, capabilities and every setting, rendered from `config::SETTINGS` as
//! text, JSON (the Meltano SDK's shape: the settings as a JSON Schema), Markdown, or Meltano's
//! plugin definition (`meltano/tap-jira.yml` is this output, checked by a test).

use serde_json::{Map, Value, json};

use crate::catalog::METADATA_KEYS;
use crate::config::{AUTHORIZE_NEEDS, AuthType, Kind, SETTINGS, Setting};

/// What Meltano and the SDK's tooling may count on: a catalog in (`--catalog`, or `--properties`
/// for older runners), `--discover`, bookmarks in and out (`--state`), `--about`,
/// ACTIVATE_VERSION after every full-table stream, and the SDK's flattening settings.
pub const CAPABILITIES: &[&str] = &[
    "catalog",
    "discover",
    "state",
    "about",
    "properties",
    "activate-version",
    "schema-flattening",
];

/// Where Meltano installs the tap from: a checkout of this repository (or a pip-style URL of
/// one), named by the project's environment, since this file cannot know where it lies.
pub const PIP_URL: &str = "${TAP_JIRA_SOURCE}";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// Meltano's plugin definition (YAML), for `meltano add --from-ref`.
    Meltano,
}

pub fn render(format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(&as_json()).unwrap_or_default(),
        Format::Markdown => markdown(),
        Format::Text => text(),
        Format::Meltano => meltano(),
    }
}

/// A setting's name as a label: `oauth_client_id` → `OAuth client ID`.
pub fn label(name: &str) -> String {
    const ACRONYMS: &[(&str, &str)] = &[
        ("api", "API"),
        ("ca", "CA"),
        ("http", "HTTP"),
        ("id", "ID"),
        ("jql", "JQL"),
        ("mb", "MB"),
        ("oauth", "OAuth"),
        ("pii", "PII"),
        ("url", "URL"),
    ];
    let words: Vec<String> = name
        .split('_')
        .enumerate()
        .map(
            |(i, word)| match ACRONYMS.iter().find(|(w, _)| *w == word) {
                Some((_, acronym)) => acronym.to_string(),
                None if i == 0 => {
                    let mut chars = word.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                }
                None => word.to_string(),
            },
        )
        .collect();
    words.join(" ")
}

/// One setting as a JSON Schema property. Every setting may be left out or null.
fn setting_schema(s: &Setting) -> Value {
    let mut p = match s.kind {
        Kind::List => json!({"type": ["array", "string", "null"], "items": {"type": "string"}}),
        // A bare date is midnight UTC, so both formats are accepted.
        Kind::DateTime => json!({"type": ["string", "null"],
            "anyOf": [{"format": "date-time"}, {"format": "date"}]}),
        Kind::OneOf(words) => {
            let mut allowed: Vec<Value> = words.iter().map(|w| json!(w)).collect();
            allowed.push(Value::Null);
            json!({"type": ["string", "null"], "enum": allowed})
        }
        // Meltano's definition makes these strings (it cannot write its `decimal` kind) and
        // Stitch's configs hold `request_timeout` as text (`""`: the default): the text of a
        // number of 0 or more, as the tap reads it.
        Kind::Number => json!({"type": ["number", "string", "null"],
            "pattern": r"^\s*(\d+(\.\d*)?|\.\d+)?\s*$"}),
        kind => json!({"type": [kind.json_type(), "null"]}),
    };
    p["title"] = json!(label(s.name));
    p["description"] = json!(s.description);
    if let Some(default) = s.default {
        p["default"] = default.to_json();
    }
    if s.is_secret() {
        p["secret"] = json!(true);
        p["writeOnly"] = json!(true);
    }
    p
}

/// The settings each way of authenticating needs, one schema per `auth_type` word: the keys it
/// cannot do without as `required`, and where any of a few keys will do, an `anyOf` of them.
fn auth_required_sets() -> Vec<Value> {
    AuthType::all()
        .map(|(word, method)| {
            let mut set = json!({"title": word, "description": method.meaning()});
            let (alone, alternatives): (Vec<&[&str]>, Vec<&[&str]>) = config_needs(method)
                .into_iter()
                .partition(|need| need.len() == 1);
            set["required"] = alone.iter().map(|need| json!(need[0])).collect();
            if !alternatives.is_empty() {
                set["allOf"] = alternatives
                    .iter()
                    .map(|need| {
                        let any: Vec<Value> =
                            need.iter().map(|key| json!({"required": [key]})).collect();
                        json!({"anyOf": any})
                    })
                    .collect();
            }
            set
        })
        .collect()
}

/// What a config must give for `method`: its needs, and `auth_type` itself for a method the
/// keys alone do not point to (without it, a scoped token's keys are read as an API token's).
fn config_needs(method: AuthType) -> Vec<&'static [&'static str]> {
    let named: &[&[&str]] = if method.is_inferred() {
        &[]
    } else {
        &[&["auth_type"]]
    };
    named.iter().chain(method.needs()).copied().collect()
}

/// Every set of keys that satisfies a method's needs, one key picked from each (Meltano's
/// `settings_group_validation` lists whole sets).
fn key_sets(needs: &[&[&'static str]]) -> Vec<Vec<&'static str>> {
    needs.iter().fold(vec![Vec::new()], |sets, need| {
        sets.iter()
            .flat_map(|set| {
                need.iter().map(move |key| {
                    let mut set = set.clone();
                    set.push(*key);
                    set
                })
            })
            .collect()
    })
}

/// A method's needs as people read them: `base_url` or `host`, `email`, `api_token`.
fn needs_words(method: AuthType, quote: &str) -> String {
    keys_words(method.needs(), quote)
}

/// Needs as people read them, each key in `quote`s.
fn keys_words(needs: &[&[&str]], quote: &str) -> String {
    needs
        .iter()
        .map(|need| {
            need.iter()
                .map(|key| format!("{quote}{key}{quote}"))
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn as_json() -> Value {
    let properties: Map<String, Value> = SETTINGS
        .iter()
        .map(|s| (s.name.to_string(), setting_schema(s)))
        .collect();
    json!({
        "name": "tap-jira",
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "version": env!("CARGO_PKG_VERSION"),
        "capabilities": CAPABILITIES,
        "settings": {
            "type": "object",
            "properties": properties,
            // The config must hold one method's settings (`auth_type` picks one, or the keys
            // present do).
            "anyOf": auth_required_sets(),
        },
        "metadata": METADATA_KEYS
            .iter()
            .map(|(key, meaning)| (key.to_string(), json!(meaning)))
            .collect::<Map<String, Value>>(),
    })
}

/// Meltano's plugin definition: settings with kinds, labels, options and defaults, and the
/// settings each auth method needs (`settings_group_validation`).
fn meltano_definition() -> Value {
    let settings: Vec<Value> = SETTINGS
        .iter()
        .map(|s| {
            let mut m = json!({"name": s.name, "label": label(s.name)});
            m["kind"] = json!(match s.kind {
                // Meltano 4.4.1 fails to write a `decimal` setting into the tap's config
                // (Decimal is not JSON serializable); the tap reads a number given as a string.
                Kind::String | Kind::Secret | Kind::Number => "string",
                Kind::Integer => "integer",
                Kind::Boolean => "boolean",
                Kind::DateTime => "date_iso8601",
                Kind::List => "array",
                Kind::OneOf(_) => "options",
            });
            if let Kind::OneOf(words) = s.kind {
                m["options"] = words
                    .iter()
                    .map(|w| json!({"label": w, "value": w}))
                    .collect();
            }
            if let Some(default) = s.default {
                m["value"] = default.to_json();
            }
            if s.is_secret() {
                m["sensitive"] = json!(true);
            }
            m["description"] = match s.kind {
                // Meltano reads an `array` setting from the environment as JSON only.
                Kind::List => json!(format!(
                    "{} Through Meltano's environment variables, a JSON array (`[\"A\", \"B\"]`).",
                    s.description
                )),
                _ => json!(s.description),
            };
            m
        })
        .collect();
    json!({
        "name": "tap-jira",
        "namespace": "tap_jira",
        "label": "Jira",
        "description": env!("CARGO_PKG_DESCRIPTION"),
        "executable": "tap-jira",
        "pip_url": PIP_URL,
        "capabilities": CAPABILITIES,
        "settings_group_validation": AuthType::all()
            .flat_map(|(_, method)| key_sets(&config_needs(method)))
            .collect::<Vec<_>>(),
        "settings": settings,
    })
}

fn meltano() -> String {
    let mut out = String::from(
        "# tap-jira's Meltano plugin definition, for `meltano add --plugin-type extractor tap-jira\n\
         # --from-ref meltano/tap-jira.yml`. Generated by `tap-jira --about --format meltano` from\n\
         # the settings in src/config.rs: change them there, not here (a test compares the two).\n",
    );
    yaml_block(&meltano_definition(), 0, &mut out);
    out.truncate(out.trim_end().len());
    out
}

fn is_scalar(value: &Value) -> bool {
    !value.is_object() && !value.is_array()
}

/// A scalar, a list of scalars or a pair of scalars (an option's label and value): written on
/// one line (`[a, b]`, `{label: a, value: a}`).
fn is_flow(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.len() <= 2 && map.values().all(is_scalar),
        Value::Array(items) => items.iter().all(is_scalar),
        _ => true,
    }
}

fn yaml_flow(value: &Value) -> String {
    match value {
        Value::String(s) => yaml_string(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(yaml_flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", yaml_flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Plain when YAML reads it back as the same string, otherwise double-quoted: a JSON string is
/// a YAML double-quoted scalar with the same escapes.
fn yaml_string(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' '))
        && !["true", "false", "yes", "no", "on", "off", "y", "n", "null"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        Value::from(s).to_string()
    }
}

/// `value` (an object or a list) as block YAML at `indent`, lists of objects in the style
/// Meltano writes (`- name: …` under the key, at its indentation).
fn yaml_block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if is_flow(v) {
                    out.push_str(&format!("{pad}{key}: {}\n", yaml_flow(v)));
                } else {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let inner = if v.is_array() { indent } else { indent + 2 };
                    yaml_block(v, inner, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_flow(item) {
                    out.push_str(&format!("{pad}- {}\n", yaml_flow(item)));
                } else {
                    let mut nested = String::new();
                    yaml_block(item, indent + 2, &mut nested);
                    // The item's first line goes on the dash.
                    out.push_str(&format!("{pad}- {}", &nested[indent + 2..]));
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_flow(scalar))),
    }
}

/// A setting's kind for people: `integer`, `secret`, `one of `a`, `b``.
fn kind_words(s: &Setting) -> String {
    match s.kind {
        Kind::Secret => "secret".into(),
        Kind::DateTime => "date-time or date".into(),
        Kind::List => "list (or comma-separated)".into(),
        Kind::OneOf(words) => format!(
            "one of {}",
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        kind => kind.json_type().into(),
    }
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
        let default = s.default.map(|d| format!("`{d}`")).unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | {} | {default} | {} |\n",
            s.name,
            kind_words(s),
            s.description.replace('|', "\\|")
        ));
    }
    out.push_str(
        "\n## Authentication\n\nThe settings each `auth_type` needs (without `auth_type`, the keys present pick one).\n\n\
         | `auth_type` | for | settings |\n| --- | --- | --- |\n",
    );
    for (word, method) in AuthType::all() {
        out.push_str(&format!(
            "| `{word}` | {} | {} |\n",
            method.meaning(),
            needs_words(method, "`")
        ));
    }
    out.push_str(&format!(
        "\n`tap-jira authorize --config config.json` gets an OAuth 2.0 method its first refresh \
         token; it needs {} (and on Data Center `base_url` or `host`).\n",
        keys_words(AUTHORIZE_NEEDS, "`")
    ));
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
            "  {} ({}): {}\n",
            s.name,
            kind_words(s).replace('`', ""),
            s.description
        ));
    }
    out.push_str("auth methods:\n");
    for (word, method) in AuthType::all() {
        out.push_str(&format!(
            "  {word}: {} ({})\n",
            needs_words(method, ""),
            method.meaning()
        ));
    }
    out.push_str(&format!(
        "  (tap-jira authorize, for oauth2 and oauth2_dc: {}, and on Data Center base_url or host)\n",
        keys_words(AUTHORIZE_NEEDS, "")
    ));
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
        for format in [
            Format::Text,
            Format::Json,
            Format::Markdown,
            Format::Meltano,
        ] {
            let about = render(format);
            for name in SETTINGS.iter().map(|s| s.name) {
                assert!(about.contains(name), "{format:?} lacks {name}");
            }
            if format != Format::Meltano {
                for (key, _) in METADATA_KEYS {
                    assert!(about.contains(key), "{format:?} lacks {key}");
                }
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
        // The README's table of auth methods is --about's.
        for (word, method) in AuthType::all() {
            let row = format!(
                "| `{word}` | {} | {} |",
                method.meaning(),
                needs_words(method, "`")
            );
            assert!(readme.contains(&row), "README lacks {row}");
        }
    }

    #[test]
    fn labels_read_as_words() {
        assert_eq!(label("oauth_client_id"), "OAuth client ID");
        assert_eq!(label("base_url"), "Base URL");
        assert_eq!(label("max_requests_per_second"), "Max requests per second");
        assert_eq!(label("jql"), "JQL");
    }

    #[test]
    fn yaml_strings_that_would_read_as_other_things_are_quoted() {
        assert_eq!(yaml_string("tap_jira"), "tap_jira");
        assert_eq!(yaml_string("no"), "\"no\"");
        assert_eq!(yaml_string("100"), "\"100\"");
        assert_eq!(yaml_string("${X}"), "\"${X}\"");
        assert_eq!(yaml_string("a: b # c"), "\"a: b # c\"");
        assert_eq!(yaml_string("API token"), "API token");
        assert_eq!(yaml_string(""), "\"\"");
        let mut out = String::new();
        yaml_block(
            &json!({"a": [{"b": 1, "c": ["x", "z"], "g": "h"}, {"b": 2}], "d": [["p", "q"]],
                    "e": {"f": true, "g": {"h": null}}}),
            0,
            &mut out,
        );
        assert_eq!(
            out,
            "a:\n- b: 1\n  c: [x, z]\n  g: h\n- {b: 2}\nd:\n- [p, q]\ne:\n  f: true\n  g: {h: null}\n"
        );
    }
}
