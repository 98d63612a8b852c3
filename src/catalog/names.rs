//! Column names of custom fields. With `custom_field_names: name`, discovery puts each custom
//! field under the snake_case of its display name (`Story Points` → `story_points`) instead of
//! its id, and records the id in the property's metadata (`tap-jira.field-id`); a sync renames
//! `fields` keys of issue records by that metadata, so a column keeps its name when the field is
//! renamed in Jira, as long as the catalog is reused.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

use super::CatalogEntry;
use super::site::SiteField;
use crate::raw::RawObject;

/// The metadata key holding a field's Jira id, beside `tap-jira.field-name`.
pub const FIELD_ID: &str = "tap-jira.field-id";

/// Config `custom_field_names`: how discovery names custom fields in `issues` → `fields`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldNames {
    /// By Jira id (`customfield_10016`), as Stitch's tap does.
    #[default]
    Id,
    /// By the snake_case of the display name (`story_points`).
    Name,
}

/// Ids of custom fields: the fields that get a name of their own.
pub fn is_custom(id: &str) -> bool {
    id.starts_with("customfield_")
}

/// The suffixes of the renderings added beside rich text (`description_markdown`).
const RENDERINGS: [&str; 2] = ["markdown", "text"];

/// The snake_case of a display name: ASCII letters (lowercased) and digits are kept, Latin
/// letters lose their diacritics (`é` → `e`, `ș` → `s`, `ờ` → `o`, `ß` → `ss`, `æ` → `ae`), and
/// every run of other characters becomes one `_`, none at either end. A result starting with a
/// digit gets `field_` before it; an empty result (a name with no letter or digit of the Latin
/// alphabet) stays empty, and the caller keeps the field's id.
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        // Combining accents (`İ` lowercases to `i` and a dot above) are dropped, not gaps.
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let mut buffer = [0u8; 4];
        let ascii = if c.is_ascii_alphanumeric() {
            Some(&*c.encode_utf8(&mut buffer))
        } else {
            latin(c)
        };
        match ascii {
            Some(text) => {
                if gap && !out.is_empty() {
                    out.push('_');
                }
                gap = false;
                out.push_str(text);
            }
            None => gap = true,
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "field_");
    }
    out
}

/// The ASCII spelling of a lowercase Latin letter with a diacritic: the letter its canonical
/// decomposition starts with, once the combining marks after it are dropped (`ș` is `s` and a
/// comma below, `ờ` is `o`, a horn and a grave accent, `ǽ` is `æ` and an acute), so that every
/// such letter of Unicode is spelled, not only those of a table. `None` for anything else:
/// letters of other scripts decompose too (`ё` into a Cyrillic `е`), and stay gaps.
fn latin(c: char) -> Option<&'static str> {
    spelled(c).or_else(|| {
        let (mut base, mut marks, mut other) = (None, 0, false);
        decompose_canonical(c, |d| match base {
            None => base = Some(d),
            Some(_) if is_combining_mark(d) => marks += 1,
            Some(_) => other = true,
        });
        // `c` itself when it does not decompose; a lone letter when it is another's alias
        // (the Kelvin sign is `K`), which stays what it was.
        let base = base.filter(|_| marks > 0 && !other)?;
        match LETTERS.find(base) {
            Some(i) => LETTERS.get(i..=i),
            None => spelled(base),
        }
    })
}

/// The base letters a decomposition may start with, to be lent as `&'static str`.
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyz";

/// The ASCII spelling of the lowercase Latin letters that do not decompose into a letter and
/// marks (`ß`, `æ`, `ø`, `đ`, `ł`, digraphs, letters with a stroke), and of the common ones of
/// Latin-1 and Latin Extended-A that do, found without decomposing them.
fn spelled(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ⱥ' => "a",
        'æ' => "ae",
        'ƀ' => "b",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' | 'ȼ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'ǆ' | 'ǳ' => "dz",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ɇ' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' | 'ǥ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ɨ' => "i",
        'ĳ' => "ij",
        'ĵ' | 'ɉ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' | 'ƚ' => "l",
        'ǉ' => "lj",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ǌ' => "nj",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' | 'ɍ' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ⱦ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ʉ' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' | 'ɏ' => "y",
        'ź' | 'ż' | 'ž' | 'ƶ' => "z",
        _ => return None,
    })
}

/// A field to name: its id, display name, and whether it is rich text (whose renderings,
/// `<name>_markdown` and `<name>_text`, take names too).
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub rich_text: bool,
}

impl<'a> Field<'a> {
    /// The custom field a `/field` entry describes; `None` for a system field.
    pub fn of(field: &'a SiteField) -> Option<Field<'a>> {
        let id = field.id().filter(|id| is_custom(id))?;
        Some(Field {
            id,
            name: field.name().unwrap_or(""),
            rich_text: field.custom_type() == Some(crate::readable::TEXTAREA),
        })
    }
}

/// Names for `fields` (custom fields), by id. `taken` are the names already in use in `fields`
/// (system fields, built-in properties, columns of an earlier discovery), each with whether it is
/// rich text. A field takes the snake_case of its display name, or its id when that is empty.
/// Fields whose names collide ignoring case (with each other, with a name taken such as
/// `fixVersions`, or with a rendering of rich text) all take their id after it
/// (`team_customfield_10001`); a name that still collides is replaced by the id alone, until no
/// two columns, renderings included, share a name in any case. The outcome does not depend on
/// the order of `fields`.
pub fn columns(fields: &[Field<'_>], taken: &[(String, bool)]) -> BTreeMap<String, String> {
    // Folded: warehouses and targets fold names to one case, so `fixversions` meets `fixVersions`.
    let mut reserved: BTreeSet<String> = BTreeSet::new();
    for (name, rich_text) in taken {
        let name = fold(name);
        if *rich_text {
            reserved.extend(renderings(&name));
        }
        reserved.insert(name);
    }
    let mut named: BTreeMap<&str, String> = fields
        .iter()
        .map(|f| {
            let snake = snake(f.name);
            (f.id, if snake.is_empty() { f.id.into() } else { snake })
        })
        .collect();
    // Each round moves every colliding field on at once, so the order of `fields` cannot matter:
    // first to its name with its id after it, then to its id, which only a name taken can still
    // meet (ids are unique, and a field named like another's id moves on instead).
    let mut first_round = true;
    loop {
        let colliding = colliding(fields, &named, &reserved);
        if colliding.is_empty() {
            break;
        }
        let mut moved = false;
        for id in colliding {
            let Some(name) = named.get_mut(id) else {
                continue;
            };
            let next = if first_round && name != id {
                format!("{name}_{id}")
            } else {
                id.to_string()
            };
            moved |= *name != next;
            *name = next;
        }
        if !moved {
            // Only ids meeting names taken are left: an id is the column of last resort.
            break;
        }
        first_round = false;
    }
    named
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect()
}

/// The fields whose current name meets another field's name, a name taken, or a rendering of a
/// rich-text field, ignoring case; and the rich-text fields whose renderings meet a name taken.
/// A field named like a rendering moves on, not the rich-text field. `reserved` is folded.
fn colliding<'a>(
    fields: &[Field<'a>],
    named: &BTreeMap<&'a str, String>,
    reserved: &BTreeSet<String>,
) -> BTreeSet<&'a str> {
    let folded: BTreeMap<&str, String> = named.iter().map(|(id, n)| (*id, fold(n))).collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for name in folded.values() {
        *count.entry(name).or_default() += 1;
    }
    let rendered: BTreeSet<String> = fields
        .iter()
        .filter(|f| f.rich_text)
        .flat_map(|f| renderings(&folded[f.id]))
        .collect();
    fields
        .iter()
        .filter(|f| {
            let name = &folded[f.id];
            count[name.as_str()] > 1
                || reserved.contains(name)
                || rendered.contains(name)
                || (f.rich_text && renderings(name).any(|r| reserved.contains(&r)))
        })
        .map(|f| f.id)
        .collect()
}

/// A name as a target that folds case sees it: two names equal once folded are one column in
/// Snowflake (upper case), PostgreSQL and Redshift targets (lower case) and BigQuery.
fn fold(name: &str) -> String {
    name.to_lowercase()
}

fn renderings(name: &str) -> impl Iterator<Item = String> + '_ {
    RENDERINGS
        .iter()
        .map(move |suffix| format!("{name}_{suffix}"))
}

/// The catalog's column names of issue fields that differ from the Jira id, from
/// `tap-jira.field-id` metadata: how a sync renames the keys of `fields` and asks Jira for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    /// Jira id → (column, column as a JSON string token).
    by_id: HashMap<String, (String, String)>,
    /// Column → Jira id.
    by_column: HashMap<String, String>,
}

/// The column of an issue's `fields` that a metadata breadcrumb names
/// (`properties/fields/properties/<column>`); `None` for any other breadcrumb.
pub fn field_column(breadcrumb: &[String]) -> Option<&str> {
    match breadcrumb {
        [p, f, p2, column] if p == "properties" && f == "fields" && p2 == "properties" => {
            Some(column)
        }
        _ => None,
    }
}

impl Columns {
    /// The renamed fields of a catalog entry's `fields`; `None` when there are none (every
    /// catalog discovered with `custom_field_names: id`, and Stitch's).
    pub fn of(entry: &CatalogEntry) -> Option<Columns> {
        let mut columns = Columns::default();
        for m in &entry.metadata {
            let Some(column) = field_column(&m.breadcrumb) else {
                continue;
            };
            let Some(id) = m.metadata.get(FIELD_ID).and_then(Value::as_str) else {
                continue;
            };
            if id == column || columns.by_id.contains_key(id) {
                continue;
            }
            let token = Value::from(column).to_string();
            columns
                .by_id
                .insert(id.to_string(), (column.to_string(), token));
            columns.by_column.insert(column.to_string(), id.to_string());
        }
        (!columns.by_id.is_empty()).then_some(columns)
    }

    /// The column of a Jira field id, when it was renamed.
    pub fn column(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(|(column, _)| column.as_str())
    }

    /// The Jira field id of a column, when it was renamed.
    pub fn id_of(&self, column: &str) -> Option<&str> {
        self.by_column.get(column).map(String::as_str)
    }

    /// Renames the keys of an issue's `fields`, taken apart only at that level.
    pub fn apply_raw<'a>(&'a self, record: &mut RawObject<'a>) {
        if let Some(fields) = record.object_mut("fields") {
            fields.rename_keys(|key| self.by_id.get(key).map(|(_, token)| token.as_str()));
        }
    }

    /// Renames the keys of an issue's `fields` in a record built as a value, in their order.
    pub fn apply(&self, record: &mut Map<String, Value>) {
        let Some(Value::Object(fields)) = record.get_mut("fields") else {
            return;
        };
        *fields = std::mem::take(fields)
            .into_iter()
            .map(|(key, value)| match self.by_id.get(&key) {
                Some((column, _)) => (column.clone(), value),
                None => (key, value),
            })
            .collect();
    }
}

/// Moves the metadata a catalog by name gives under a renamed field's Jira id
/// (`properties/fields/properties/customfield_10016`, and inside it) to the breadcrumb of its
/// column: records carry the column, so a `tap-jira.hash` mark or a `selected: false` left under
/// the id held for nothing and the value left in clear. Where both breadcrumbs have metadata, a
/// mark or a deselection under either name wins.
pub fn metadata_by_column(entry: &mut CatalogEntry) {
    let Some(columns) = Columns::of(entry) else {
        return;
    };
    let under_id = |m: &super::MetadataEntry| match m.breadcrumb.as_slice() {
        [p, f, p2, id, ..] if p == "properties" && f == "fields" && p2 == "properties" => {
            columns.column(id).map(String::from)
        }
        _ => None,
    };
    let (by_id, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut entry.metadata)
        .into_iter()
        .partition(|m| under_id(m).is_some());
    entry.metadata = kept;
    for mut moved in by_id {
        if let Some(column) = under_id(&moved) {
            moved.breadcrumb[3] = column;
        }
        let mut merged = false;
        for m in entry
            .metadata
            .iter_mut()
            .filter(|m| m.breadcrumb == moved.breadcrumb)
        {
            merged = true;
            for (key, value) in &moved.metadata {
                let wins = match key.as_str() {
                    "selected" => value == &Value::Bool(false),
                    crate::hashing::HASH_METADATA | crate::hashing::HASH_METADATA_DOTLESS => {
                        value == &Value::Bool(true) || value == "true"
                    }
                    _ => !m.metadata.contains_key(key),
                };
                if wins {
                    m.metadata.insert(key.clone(), value.clone());
                }
            }
        }
        if !merged {
            entry.metadata.push(moved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_names_become_snake_case() {
        for (name, snake_name) in [
            ("Story Points", "story_points"),
            ("  Story   Points  ", "story_points"),
            ("Story-Points (SP)", "story_points_sp"),
            ("storyPoints", "storypoints"),
            ("Épic Nåme", "epic_name"),
            ("Größe", "grosse"),
            ("İstanbul office", "istanbul_office"),
            ("2nd reviewer", "field_2nd_reviewer"),
            ("Team 日本", "team"),
            ("優先度", ""),
            ("", ""),
            ("__x__", "x"),
            ("a.b/c", "a_b_c"),
        ] {
            assert_eq!(snake(name), snake_name, "{name:?}");
        }
    }

    #[test]
    fn latin_letters_with_any_diacritic_lose_it_and_other_scripts_stay_gaps() {
        let mut wrong = Vec::new();
        for (name, snake_name) in [
            // Romanian comma below, Vietnamese horns and stacked marks: past Latin Extended-A.
            ("Ședință", "sedinta"),
            ("ȘEDINȚĂ", "sedinta"),
            ("Người thực hiện", "nguoi_thuc_hien"),
            ("Ước tính (giờ)", "uoc_tinh_gio"),
            ("Tiếng Việt", "tieng_viet"),
            ("Ǆemal ǅ Ǳ ǈ Ǌ", "dzemal_dz_dz_lj_nj"),
            ("Ǻ ǽ ǿ", "a_ae_o"),
            ("Ángström Å", "angstrom_a"),
            // Letters that do not decompose.
            ("Straße Æble Øre", "strasse_aeble_ore"),
            ("Đường Łódź", "duong_lodz"),
            ("Œuvre Þing", "oeuvre_thing"),
            ("Ƀ ƀ Ɨ ɨ Ƶ ƶ Ǥ ǥ", "b_b_i_i_z_z_g_g"),
            // Already spelled out: unchanged.
            ("Ĳssel ŉ ſ", "ijssel_n_s"),
            // Other scripts and symbols stay gaps, as before.
            ("Дата ёлки", ""),
            ("Σύνοψη", ""),
            ("Team 한국어 日本", "team"),
            // The Kelvin sign lowercases to `k`; `≠` is `=` with a stroke, `²` a compatibility 2.
            ("Temperature (\u{212a}) ≠ m²", "temperature_k_m"),
            ("ＡＢＣ ①", ""),
        ] {
            if snake(name) != snake_name {
                wrong.push(format!("{name:?} → {:?}, not {snake_name:?}", snake(name)));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    fn field<'a>(id: &'a str, name: &'a str) -> Field<'a> {
        Field {
            id,
            name,
            rich_text: false,
        }
    }

    fn taken(names: &[&str]) -> Vec<(String, bool)> {
        names
            .iter()
            .map(|n| (n.to_string(), matches!(*n, "description" | "environment")))
            .collect()
    }

    #[test]
    fn collisions_take_the_id_whatever_the_order() {
        let fields = [
            field("customfield_3", "Team"),
            field("customfield_1", "team"),
            field("customfield_2", "Summary"),
            field("customfield_4", "Story Points"),
            field("customfield_5", "優先度"),
            field("customfield_6", "Description Markdown"),
        ];
        let expected: BTreeMap<String, String> = [
            ("customfield_1", "team_customfield_1"),
            ("customfield_2", "summary_customfield_2"),
            ("customfield_3", "team_customfield_3"),
            ("customfield_4", "story_points"),
            ("customfield_5", "customfield_5"),
            ("customfield_6", "description_markdown_customfield_6"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let taken = taken(&["summary", "description"]);
        assert_eq!(columns(&fields, &taken), expected);
        let mut reversed = fields;
        reversed.reverse();
        assert_eq!(columns(&reversed, &taken), expected);
    }

    #[test]
    fn renderings_of_rich_text_fields_and_names_after_collision_stay_apart() {
        let notes = Field {
            id: "customfield_1",
            name: "Notes",
            rich_text: true,
        };
        let named = columns(
            &[
                notes,
                field("customfield_2", "Notes text"),
                field("customfield_3", "x"),
                field("customfield_4", "X"),
                field("customfield_5", "x customfield_3"),
            ],
            &[],
        );
        assert_eq!(named["customfield_1"], "notes");
        assert_eq!(named["customfield_2"], "notes_text_customfield_2");
        assert_eq!(named["customfield_3"], "customfield_3");
        assert_eq!(named["customfield_4"], "x_customfield_4");
        assert_eq!(named["customfield_5"], "customfield_5");
        // A rich-text field whose rendering would be a name already in use.
        let foo = Field {
            id: "customfield_9",
            name: "Foo",
            rich_text: true,
        };
        let named = columns(&[foo], &[("foo_markdown".into(), false)]);
        assert_eq!(named["customfield_9"], "foo_customfield_9");
    }

    #[test]
    fn names_met_only_after_a_first_renaming_move_on_until_all_are_apart() {
        let notes = Field {
            id: "customfield_1",
            name: "Notes",
            rich_text: true,
        };
        let named = columns(
            &[
                notes,
                Field {
                    id: "customfield_2",
                    ..notes
                },
                field("customfield_3", "Notes customfield_1 markdown"),
                field("customfield_4", "Summary"),
                field("customfield_5", "Summary customfield_4"),
                field("customfield_6", "customfield_4"),
            ],
            &taken(&["summary"]),
        );
        assert_eq!(named["customfield_1"], "notes_customfield_1");
        assert_eq!(named["customfield_2"], "notes_customfield_2");
        assert_eq!(named["customfield_3"], "customfield_3");
        assert_eq!(named["customfield_4"], "customfield_4");
        assert_eq!(named["customfield_5"], "customfield_5");
        assert_eq!(named["customfield_6"], "customfield_6");
    }

    /// Warehouses fold unquoted names to one case (Snowflake to upper, PostgreSQL targets to
    /// lower), so `lastviewed` beside the system `lastViewed` would be one column.
    #[test]
    fn names_equal_ignoring_case_collide_and_the_rest_stay() {
        let notes = Field {
            id: "customfield_5",
            name: "Notes",
            rich_text: true,
        };
        let fields = [
            field("customfield_1", "Lastviewed"),
            field("customfield_2", "FixVersions"),
            field("customfield_3", "Fix Versions"),
            field("customfield_4", "Status category"),
            notes,
        ];
        let taken: Vec<(String, bool)> = ["lastViewed", "fixVersions", "statusCategory"]
            .into_iter()
            .map(|n| (n.to_string(), false))
            .chain([("Notes_Text".to_string(), false)])
            .collect();
        let named = columns(&fields, &taken);
        assert_eq!(named["customfield_1"], "lastviewed_customfield_1");
        assert_eq!(named["customfield_2"], "fixversions_customfield_2");
        assert_eq!(named["customfield_3"], "fix_versions");
        assert_eq!(named["customfield_4"], "status_category");
        assert_eq!(named["customfield_5"], "notes_customfield_5");
        let mut all: Vec<String> = taken.iter().map(|(n, _)| n.clone()).collect();
        all.extend(named.values().cloned());
        all.extend(renderings(&named["customfield_5"]));
        let folded: BTreeSet<String> = all.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(folded.len(), all.len(), "{all:?}");
    }

    fn entry(metadata: Value) -> CatalogEntry {
        serde_json::from_value(
            json!({"tap_stream_id": "issues", "schema": {}, "metadata": metadata}),
        )
        .unwrap()
    }

    #[test]
    fn records_are_renamed_by_the_catalog_metadata_as_text_and_as_values() {
        let crumb = |name: &str| json!(["properties", "fields", "properties", name]);
        let e = entry(json!([
            {"breadcrumb": crumb("story_points"), "metadata": {FIELD_ID: "customfield_1"}},
            {"breadcrumb": crumb("summary"), "metadata": {FIELD_ID: "summary"}},
            {"breadcrumb": crumb("customfield_2"), "metadata": {}},
            {"breadcrumb": ["properties", "story_points"], "metadata": {FIELD_ID: "x"}}
        ]));
        let columns = Columns::of(&e).unwrap();
        assert_eq!(columns.column("customfield_1"), Some("story_points"));
        assert_eq!(columns.id_of("story_points"), Some("customfield_1"));
        assert_eq!(columns.column("summary"), None);
        assert_eq!(columns.id_of("x"), None);

        let text = r#"{"id":"1","customfield_1":0,"fields":{"summary":"s","customfield_1":3.5,"customfield_2":null}}"#;
        let mut raw = RawObject::parse(text).unwrap();
        columns.apply_raw(&mut raw);
        let mut written = String::new();
        raw.write_to(&mut written);
        assert_eq!(
            written,
            r#"{"id":"1","customfield_1":0,"fields":{"summary":"s","story_points":3.5,"customfield_2":null}}"#
        );
        let mut value: Value = serde_json::from_str(text).unwrap();
        columns.apply(value.as_object_mut().unwrap());
        assert_eq!(value.to_string(), written, "values and text alike");
        assert_eq!(Columns::of(&entry(json!([]))), None);
    }
}
