//! Types the site's own fields: a `/field` entry becomes the JSON schema of its value in an issue's
//! `fields`. A type it cannot map becomes a permissive nullable schema, never an error.

use serde_json::{Value, json};

use super::TextForm;
use super::site::SiteField;

/// Any JSON value: for fields whose shape Jira does not declare.
pub fn permissive() -> Value {
    json!({"type": ["null", "boolean", "integer", "number", "string", "object", "array"]})
}

fn nullable(kind: &str) -> Value {
    json!({"type": ["null", kind]})
}

fn date_time() -> Value {
    json!({"type": ["null", "string"], "format": "date-time"})
}

fn object(properties: Value) -> Value {
    json!({"type": ["null", "object"], "properties": properties})
}

fn avatar_urls() -> Value {
    object(json!({
        "16x16": nullable("string"), "24x24": nullable("string"),
        "32x32": nullable("string"), "48x48": nullable("string")
    }))
}

fn user() -> Value {
    object(json!({
        "self": nullable("string"), "accountId": nullable("string"), "accountType": nullable("string"),
        "name": nullable("string"), "key": nullable("string"), "emailAddress": nullable("string"),
        "displayName": nullable("string"), "active": nullable("boolean"), "timeZone": nullable("string"),
        "locale": nullable("string"), "avatarUrls": avatar_urls()
    }))
}

fn option() -> Value {
    object(json!({
        "self": nullable("string"), "id": nullable("string"), "value": nullable("string"),
        "disabled": nullable("boolean")
    }))
}

/// An app's option (Connect issue fields, `schema.type: "option2"`): Jira's app options are
/// numbered (`{"id": 69, "value": "Billable"}`), unlike custom field options' string ids.
fn app_option() -> Value {
    let mut schema = option();
    schema["properties"]["id"] = json!({"type": ["null", "integer", "string"]});
    schema
}

fn option_with_child() -> Value {
    let mut schema = option();
    schema["properties"]["child"] = option();
    schema
}

fn group() -> Value {
    object(
        json!({"self": nullable("string"), "name": nullable("string"), "groupId": nullable("string")}),
    )
}

/// Versions, priorities, statuses, …: objects identified by id and name.
fn named_object() -> Value {
    object(json!({
        "self": nullable("string"), "id": nullable("string"), "key": nullable("string"),
        "name": nullable("string"), "description": nullable("string"), "iconUrl": nullable("string"),
        "archived": nullable("boolean"), "released": nullable("boolean"),
        "releaseDate": {"type": ["null", "string"], "format": "date"}, "avatarUrls": avatar_urls()
    }))
}

/// A project as Jira sends it in an issue's fields (a Project Picker's value as the system
/// `project`): its type, team-managed flag and category listed, so that flattening gives them
/// columns of their own types rather than JSON text.
fn project() -> Value {
    object(json!({
        "self": nullable("string"), "id": nullable("string"), "key": nullable("string"),
        "name": nullable("string"), "projectTypeKey": nullable("string"),
        "simplified": nullable("boolean"), "avatarUrls": avatar_urls(),
        "projectCategory": object(json!({
            "self": nullable("string"), "id": nullable("string"), "name": nullable("string"),
            "description": nullable("string")
        }))
    }))
}

/// Sprint values are objects on Cloud and recent Server, Java `toString` strings on Server 7.
fn sprint() -> Value {
    json!({
        "type": ["null", "object", "string"],
        "properties": {
            "id": nullable("integer"), "name": nullable("string"), "state": nullable("string"),
            "boardId": nullable("integer"), "goal": nullable("string"), "startDate": date_time(),
            "endDate": date_time(), "completeDate": date_time(), "createdDate": date_time()
        }
    })
}

const CUSTOM_PREFIX: &str = "com.atlassian.jira.plugin.system.customfieldtypes:";

/// The schema of one field's value, from its `/field` entry.
pub fn field_schema(field: &SiteField, text: TextForm) -> Value {
    let Some(schema) = &field.schema else {
        return permissive();
    };
    let kind = schema.kind.as_deref().unwrap_or("");
    let custom = schema.custom.as_deref().unwrap_or("");
    let system = schema.system.as_deref().unwrap_or("");

    // The custom type says what the values look like more reliably than `schema.type`: old Servers
    // declare select lists and radio buttons as "string" and send option objects.
    if let Some(known) = custom_type_schema(custom, text) {
        return known;
    }
    if matches!(system, "description" | "environment") {
        return text.schema();
    }
    if kind == "array" {
        let items = schema.items.as_deref().unwrap_or("");
        let items = value_schema(items).unwrap_or_else(permissive);
        return json!({"type": ["null", "array"], "items": items});
    }
    value_schema(kind).unwrap_or_else(permissive)
}

/// Schemas of the custom field types Jira and Jira Software ship, by their type key.
fn custom_type_schema(custom: &str, text: TextForm) -> Option<Value> {
    let array = |items: Value| json!({"type": ["null", "array"], "items": items});
    if let Some(kind) = custom.strip_prefix(CUSTOM_PREFIX) {
        return Some(match kind {
            "select" | "radiobuttons" => option(),
            "multiselect" | "multicheckboxes" => array(option()),
            "cascadingselect" => option_with_child(),
            "textarea" => text.schema(),
            "textfield" | "url" | "readonlyfield" => nullable("string"),
            "float" => nullable("number"),
            "datepicker" => json!({"type": ["null", "string"], "format": "date"}),
            "datetime" => date_time(),
            "labels" => array(nullable("string")),
            "userpicker" => user(),
            "multiuserpicker" => array(user()),
            "grouppicker" => group(),
            "multigrouppicker" => array(group()),
            "version" => named_object(),
            "project" => project(),
            "multiversion" => array(named_object()),
            _ => return None,
        });
    }
    Some(match custom {
        "com.pyxis.greenhopper.jira:gh-sprint" => array(sprint()),
        "com.pyxis.greenhopper.jira:gh-epic-link"
        | "com.pyxis.greenhopper.jira:gh-epic-label"
        | "com.pyxis.greenhopper.jira:gh-epic-color"
        | "com.pyxis.greenhopper.jira:gh-lexo-rank" => nullable("string"),
        "com.pyxis.greenhopper.jira:gh-epic-status" => option(),
        // Declared an array of strings, sent as one string: take whatever comes.
        "com.pyxis.greenhopper.jira:gh-global-rank" => permissive(),
        _ => return None,
    })
}

/// Schemas by the declared `schema.type`, for fields no known custom type describes.
fn value_schema(kind: &str) -> Option<Value> {
    Some(match kind {
        "string" => nullable("string"),
        "number" => nullable("number"),
        "integer" => nullable("integer"),
        "boolean" => nullable("boolean"),
        "date" => json!({"type": ["null", "string"], "format": "date"}),
        "datetime" => date_time(),
        "option" => option(),
        "option2" => app_option(),
        "option-with-child" => option_with_child(),
        "user" => user(),
        "group" => group(),
        "project" => project(),
        "version" | "priority" | "issuetype" | "status" | "resolution" | "securitylevel"
        | "component" | "statusCategory" => named_object(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_field(entry: Value) -> SiteField {
        serde_json::from_value(entry).unwrap()
    }

    fn schema_of(field_schema_json: Value) -> Value {
        field_schema(
            &site_field(json!({"id": "customfield_1", "schema": field_schema_json})),
            TextForm::Adf,
        )
    }

    #[test]
    fn maps_common_custom_types() {
        let custom = |t: &str| format!("{CUSTOM_PREFIX}{t}");
        assert_eq!(
            schema_of(json!({"type": "number", "custom": custom("float")})),
            nullable("number")
        );
        assert_eq!(
            schema_of(json!({"type": "datetime", "custom": custom("datetime")})),
            date_time()
        );
        assert_eq!(
            schema_of(json!({"type": "date", "custom": custom("datepicker")}))["format"],
            json!("date")
        );
        assert_eq!(
            schema_of(json!({"type": "option", "custom": custom("select")})),
            option()
        );
        let multi =
            schema_of(json!({"type": "array", "items": "option", "custom": custom("multiselect")}));
        assert_eq!(multi["items"], option());
        let app = schema_of(
            json!({"type": "option2", "custom": "com.atlassian.plugins.atlassian-connect-plugin:io.tempo.jira__account"}),
        );
        assert_eq!(
            app["properties"]["id"]["type"],
            json!(["null", "integer", "string"])
        );
        let cascading =
            schema_of(json!({"type": "option-with-child", "custom": custom("cascadingselect")}));
        assert_eq!(cascading["properties"]["child"], option());
        let users = schema_of(
            json!({"type": "array", "items": "user", "custom": custom("multiuserpicker")}),
        );
        assert_eq!(
            users["items"]["properties"]["accountId"],
            nullable("string")
        );
        let picked = schema_of(json!({"type": "project", "custom": custom("project")}));
        assert_eq!(picked["properties"]["simplified"], nullable("boolean"));
        let sprints = schema_of(
            json!({"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}),
        );
        assert_eq!(
            sprints["items"]["properties"]["boardId"],
            nullable("integer")
        );
        assert_eq!(
            schema_of(json!({"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"})),
            nullable("string")
        );
        assert_eq!(
            schema_of(json!({"type": "string", "custom": custom("textarea")}))["type"],
            json!(["null", "object"])
        );
    }

    #[test]
    fn unknown_or_missing_types_are_permissive() {
        assert_eq!(
            schema_of(json!({"type": "mood", "custom": "com.example.app:mood"})),
            permissive()
        );
        assert_eq!(schema_of(json!({"type": "any"})), permissive());
        assert_eq!(
            field_schema(&site_field(json!({"id": "parent"})), TextForm::Adf),
            permissive()
        );
        assert_eq!(
            schema_of(json!({"type": "array", "items": "weird"}))["items"],
            permissive()
        );
    }

    #[test]
    fn rich_text_is_typed_by_what_the_site_sends() {
        let description = site_field(
            json!({"id": "description", "schema": {"type": "string", "system": "description"}}),
        );
        assert_eq!(
            field_schema(&description, TextForm::Wiki),
            nullable("string")
        );
        assert_eq!(
            field_schema(&description, TextForm::Adf)["type"],
            json!(["null", "object"])
        );
    }
}
