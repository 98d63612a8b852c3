//! Custom fields changed between runs, as administrators change them: added, deleted, or given
//! another type. A field's values follow from its number and type, so a new field has values
//! at once (null on about a third of the issues) and a retyped one holds values of its new
//! type. Issues keep their `updated`: Jira does not count a new field or a type change as an
//! edit of the issues. Each change writes Jira's audit record (category "fields").

use crate::site::Site;
use crate::site::fields::{self, Custom, CustomFieldType, FieldDef, Kind};
use crate::site::setup::AuditItem;

/// Why a field cannot be removed or retyped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldRefusal {
    Unknown,
    System,
    /// Managed by Jira Software (see `Custom::is_locked`).
    Locked,
}

impl FieldRefusal {
    pub fn status(self) -> u16 {
        match self {
            FieldRefusal::Unknown => 404,
            FieldRefusal::System | FieldRefusal::Locked => 400,
        }
    }

    pub fn message(self, id: &str) -> String {
        match self {
            FieldRefusal::Unknown => format!("The custom field '{id}' was not found."),
            FieldRefusal::System => format!("'{id}' is a system field, not a custom field."),
            FieldRefusal::Locked => {
                format!("The custom field '{id}' is locked: Jira manages it.")
            }
        }
    }
}

/// A retyped field: its id and name, and its type before and after.
pub(crate) struct Retyped {
    pub id: String,
    pub name: String,
    pub from: Custom,
    pub to: Custom,
}

fn audit_item(field: &FieldDef) -> AuditItem {
    AuditItem {
        id: Some(field.id.clone()),
        name: field.name.clone(),
        type_name: "CUSTOM_FIELD",
        parent: None,
    }
}

impl Site {
    /// Adds a custom field of type `kind` with the next unused number. Returns its id.
    pub fn add_custom_field(&mut self, name: &str, kind: CustomFieldType) -> String {
        let number = self.next_custom_number;
        self.next_custom_number += 1;
        let field = fields::custom_field(number, name.to_string(), kind.kind(), self.deployment);
        let changed = vec![
            ("Name", None, name.to_string()),
            ("Description", None, String::new()),
            ("Type", None, kind.kind().label().to_string()),
        ];
        self.add_audit_record(
            "Custom field created",
            "fields",
            self.now_ms(),
            audit_item(&field),
            changed,
            Vec::new(),
        );
        let id = field.id.clone();
        self.fields.push(field);
        self.version += 1;
        id
    }

    /// Deletes a custom field (from `/field`, its contexts and options, and every issue).
    /// Returns it as it was.
    pub fn remove_custom_field(&mut self, id: &str) -> Result<FieldDef, FieldRefusal> {
        let position = self.changeable_field(id)?;
        let field = self.fields.remove(position);
        self.add_audit_record(
            "Custom field deleted",
            "fields",
            self.now_ms(),
            audit_item(&field),
            Vec::new(),
            Vec::new(),
        );
        self.version += 1;
        Ok(field)
    }

    /// Gives a custom field another type, keeping its id and name.
    pub fn retype_custom_field(
        &mut self,
        id: &str,
        kind: CustomFieldType,
    ) -> Result<Retyped, FieldRefusal> {
        let position = self.changeable_field(id)?;
        let deployment = self.deployment;
        let field = &mut self.fields[position];
        let Kind::Custom(from) = field.kind else {
            return Err(FieldRefusal::System);
        };
        let to = kind.kind();
        let retyped = Retyped {
            id: field.id.clone(),
            name: field.name.clone(),
            from,
            to,
        };
        if from == to {
            return Ok(retyped);
        }
        field.kind = Kind::Custom(to);
        field.schema = Some(fields::custom_schema(field.custom_number(), to, deployment));
        let object = audit_item(field);
        let changed = vec![(
            "Type",
            Some(from.label().to_string()),
            to.label().to_string(),
        )];
        self.add_audit_record(
            "Custom field updated",
            "fields",
            self.now_ms(),
            object,
            changed,
            Vec::new(),
        );
        self.version += 1;
        Ok(retyped)
    }

    /// Gives a custom field another display name, keeping its id, type and values. Returns the
    /// name it had.
    pub fn rename_custom_field(&mut self, id: &str, name: &str) -> Result<String, FieldRefusal> {
        let position = self.changeable_field(id)?;
        let field = &mut self.fields[position];
        let before = std::mem::replace(&mut field.name, name.to_string());
        // JQL knows the field by its name too.
        field.clause_names.retain(|clause| *clause != before);
        field.clause_names.push(name.to_string());
        let object = audit_item(field);
        let changed = vec![("Name", Some(before.clone()), name.to_string())];
        self.add_audit_record(
            "Custom field updated",
            "fields",
            self.now_ms(),
            object,
            changed,
            Vec::new(),
        );
        self.version += 1;
        Ok(before)
    }

    /// Position in the catalog of a custom field that may be removed, retyped or renamed.
    fn changeable_field(&self, id: &str) -> Result<usize, FieldRefusal> {
        let position = self
            .fields
            .iter()
            .position(|f| f.id == id)
            .ok_or(FieldRefusal::Unknown)?;
        match self.fields[position].kind {
            Kind::System(_) => Err(FieldRefusal::System),
            Kind::Custom(kind) if kind.is_locked() => Err(FieldRefusal::Locked),
            Kind::Custom(_) => Ok(position),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    #[test]
    fn new_fields_take_the_next_number_even_after_a_removal() {
        let mut site = Site::generate(&SimConfig::default());
        let last = site
            .fields
            .iter()
            .map(FieldDef::custom_number)
            .max()
            .unwrap();
        let a = site.add_custom_field("Risk", CustomFieldType::Float);
        assert_eq!(a, format!("customfield_{}", last + 1));
        site.remove_custom_field(&a).unwrap();
        let b = site.add_custom_field("Risk", CustomFieldType::Float);
        assert_eq!(b, format!("customfield_{}", last + 2), "ids are not reused");
        assert_eq!(
            site.remove_custom_field(&a).unwrap_err(),
            FieldRefusal::Unknown
        );
        assert_eq!(
            site.remove_custom_field("summary").unwrap_err(),
            FieldRefusal::System
        );
        let sprint = site.fields.iter().find(|f| f.name == "Sprint").unwrap();
        let sprint = sprint.id.clone();
        assert_eq!(
            site.retype_custom_field(&sprint, CustomFieldType::TextField)
                .err(),
            Some(FieldRefusal::Locked)
        );
    }

    #[test]
    fn a_retyped_field_keeps_its_id_and_name_and_takes_the_new_schema() {
        let mut site = Site::generate(&SimConfig::default());
        let id = site.add_custom_field("Budget code", CustomFieldType::Float);
        let retyped = site
            .retype_custom_field(&id, CustomFieldType::Select)
            .unwrap();
        assert_eq!((retyped.from, retyped.to), (Custom::Float, Custom::Select));
        let field = site.fields.iter().find(|f| f.id == id).unwrap();
        assert_eq!(field.name, "Budget code");
        let schema = field.schema.as_ref().unwrap();
        assert_eq!(schema.type_, "option");
        assert_eq!(
            schema.custom,
            Some("com.atlassian.jira.plugin.system.customfieldtypes:select")
        );
        assert!(field.has_options() && field.contexts().len() == 2);
        let summaries: Vec<&str> = site.audit.iter().rev().take(2).map(|r| r.summary).collect();
        assert_eq!(summaries, ["Custom field updated", "Custom field created"]);
    }

    #[test]
    fn a_renamed_field_keeps_its_id_type_and_values() {
        let mut site = Site::generate(&SimConfig::default());
        let id = site.add_custom_field("Budget code", CustomFieldType::Float);
        assert_eq!(
            site.rename_custom_field(&id, "Cost centre").unwrap(),
            "Budget code"
        );
        let field = site.fields.iter().find(|f| f.id == id).unwrap();
        assert_eq!(field.name, "Cost centre");
        assert!(field.clause_names.contains(&"Cost centre".to_string()));
        assert!(!field.clause_names.contains(&"Budget code".to_string()));
        assert_eq!(field.kind, Kind::Custom(Custom::Float));
        assert_eq!(
            site.rename_custom_field("summary", "x").unwrap_err(),
            FieldRefusal::System
        );
        assert_eq!(site.audit.last().unwrap().summary, "Custom field updated");
    }

    #[test]
    fn types_read_from_their_keys() {
        for t in CustomFieldType::ALL {
            assert_eq!(t.key().parse::<CustomFieldType>(), Ok(t));
        }
        assert_eq!("FLOAT".parse(), Ok(CustomFieldType::Float));
        assert_eq!(
            "cascadingselect".parse(),
            Ok(CustomFieldType::CascadingSelect)
        );
        assert!("gh-sprint".parse::<CustomFieldType>().is_err());
    }
}
