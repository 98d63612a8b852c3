//! What a client asked to see of an issue: the `fields` list (`*all`, `*navigable`, ids,
//! `-id` exclusions) and the `expand` list.

use crate::site::Site;

/// The fields to render, as indexes into the site's field catalog, in catalog order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    pub fields: Vec<usize>,
    /// Nothing but the id: `/search/jql`'s default, where issues come back as `{"id": "..."}`
    /// (unless an expansion asks for more). Other endpoints always write the envelope.
    pub bare: bool,
}

/// What `fields` means when the client sent none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DefaultFields {
    /// `/search/jql`: only `id`.
    IdOnly,
    /// Server's `/search`: `*navigable`.
    Navigable,
    /// `GET /issue/{key}`: `*all`.
    All,
}

/// Resolves `fields` values (each may itself be a comma-separated list) against the catalog.
/// Unknown ids are ignored, as Jira does.
pub(crate) fn fields(site: &Site, values: &[String], default: DefaultFields) -> Selection {
    let specs: Vec<&str> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut chosen = vec![false; site.fields.len()];
    let mut excluded = vec![false; site.fields.len()];
    let mark = |chosen: &mut Vec<bool>, want: &dyn Fn(usize) -> bool| {
        for (i, f) in site.fields.iter().enumerate() {
            if f.in_issue && want(i) {
                chosen[i] = true;
            }
        }
    };
    let mut asked_for_key = false;
    if specs.is_empty() {
        match default {
            DefaultFields::IdOnly => {}
            DefaultFields::Navigable => mark(&mut chosen, &|i| site.fields[i].navigable),
            DefaultFields::All => mark(&mut chosen, &|_| true),
        }
    }
    for spec in specs {
        match spec {
            "*all" => mark(&mut chosen, &|_| true),
            "*navigable" => mark(&mut chosen, &|i| site.fields[i].navigable),
            "id" => {}
            "key" | "issuekey" => asked_for_key = true,
            _ => {
                let (list, id) = match spec.strip_prefix('-') {
                    Some(id) => (&mut excluded, id),
                    None => (&mut chosen, spec),
                };
                if let Some(i) = site.fields.iter().position(|f| f.id == id && f.in_issue) {
                    list[i] = true;
                }
            }
        }
    }
    let fields: Vec<usize> = (0..site.fields.len())
        .filter(|&i| chosen[i] && !excluded[i])
        .collect();
    Selection {
        bare: default == DefaultFields::IdOnly && fields.is_empty() && !asked_for_key,
        fields,
    }
}

/// The `expand` options the simulator honours; the others are accepted and ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expand {
    pub changelog: bool,
    pub names: bool,
    pub schema: bool,
    pub transitions: bool,
    pub rendered_fields: bool,
    /// How many histories `changelog` embeds; `None` for all. Set by the endpoint, not the
    /// client: Jira embeds 40 in Cloud's `/search/jql`, 100 in offset search and Cloud's issue.
    pub changelog_cap: Option<usize>,
}

impl Expand {
    /// Whether the issue needs its envelope even when no field was asked for.
    pub fn adds_to_issue(&self) -> bool {
        self.changelog || self.transitions || self.rendered_fields
    }

    pub fn with_changelog_cap(self, cap: Option<usize>) -> Expand {
        Expand {
            changelog_cap: cap,
            ..self
        }
    }

    pub fn parse(values: &[String]) -> Expand {
        let mut expand = Expand::default();
        for item in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
            match item {
                "changelog" => expand.changelog = true,
                "names" => expand.names = true,
                "schema" => expand.schema = true,
                "transitions" => expand.transitions = true,
                "renderedFields" => expand.rendered_fields = true,
                _ => {}
            }
        }
        expand
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;

    fn ids(site: &Site, sel: &Selection) -> Vec<String> {
        sel.fields
            .iter()
            .map(|&i| site.fields[i].id.clone())
            .collect()
    }

    #[test]
    fn default_and_explicit_fields() {
        let site = Site::generate(&SimConfig::default());
        assert!(fields(&site, &[], DefaultFields::IdOnly).bare);
        let sel = fields(
            &site,
            &["summary,status".into(), "customfield_10000".into()],
            DefaultFields::IdOnly,
        );
        assert_eq!(ids(&site, &sel), ["summary", "status", "customfield_10000"]);
        let sel = fields(&site, &["key".into()], DefaultFields::IdOnly);
        assert!(!sel.bare && sel.fields.is_empty());
        let sel = fields(&site, &["nonexistent".into()], DefaultFields::IdOnly);
        assert!(sel.bare);
        // Only `/search/jql` answers with bare ids.
        assert!(!fields(&site, &["id".into()], DefaultFields::All).bare);
        assert!(!fields(&site, &["id".into()], DefaultFields::Navigable).bare);
    }

    #[test]
    fn all_navigable_and_exclusions() {
        let site = Site::generate(&SimConfig::default());
        let all = ids(
            &site,
            &fields(&site, &["*all".into()], DefaultFields::IdOnly),
        );
        assert!(all.contains(&"comment".to_string()));
        assert!(!all.contains(&"issuekey".to_string()));
        let nav = ids(
            &site,
            &fields(
                &site,
                &["*navigable".into(), "-summary".into()],
                DefaultFields::IdOnly,
            ),
        );
        assert!(
            !nav.contains(&"comment".to_string()),
            "comment is not navigable"
        );
        assert!(!nav.contains(&"summary".to_string()));
        assert!(nav.contains(&"updated".to_string()));
        assert_eq!(
            ids(&site, &fields(&site, &[], DefaultFields::Navigable)).len(),
            nav.len() + 1
        );
    }
}
