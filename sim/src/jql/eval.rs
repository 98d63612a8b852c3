//! Running a parsed query against the site: resolving project and issue names to indexes,
//! testing issues against the clauses, and ordering them.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::{Clause, Cmp, Query, SortField, SortKey, TimeField};
use crate::site::Site;

enum Bound {
    Projects { member: Vec<bool>, negated: bool },
    Issues { member: HashSet<u32>, negated: bool },
    Time { field: TimeField, cmp: Cmp, at: i64 },
    IdRange { cmp: Cmp, id: u64 },
}

/// A query resolved against one version of the site.
pub(crate) struct Plan {
    clauses: Vec<Bound>,
    order: Vec<SortKey>,
    /// Whether the query had an ORDER BY (else `order` is Jira's default).
    ordered: bool,
}

/// What issues are ordered by. Built from an issue, or from a page token's last position.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SortRow<'a> {
    pub updated: i64,
    pub created: i64,
    pub project_key: &'a str,
    pub number: u32,
    pub id: u64,
}

impl<'a> SortRow<'a> {
    pub fn of(site: &'a Site, index: usize) -> SortRow<'a> {
        let issue = &site.issues[index];
        SortRow {
            updated: issue.updated,
            created: issue.created,
            project_key: &site.projects[issue.project as usize].key,
            number: issue.number,
            id: issue.id,
        }
    }
}

/// Jira's order when the query has no ORDER BY: newest key first.
const DEFAULT_ORDER: SortKey = SortKey {
    field: SortField::Key,
    descending: true,
};

/// Resolves names in `query`; the errors are Jira's validation messages, all of them.
pub(crate) fn bind(query: &Query, site: &Site) -> Result<Plan, Vec<String>> {
    let mut errors = Vec::new();
    let mut clauses = Vec::new();
    for clause in &query.clauses {
        match clause {
            Clause::Project { values, negated } => {
                let mut member = vec![false; site.projects.len()];
                for value in values {
                    let found = site.find_project(value).or_else(|| {
                        site.projects
                            .iter()
                            .position(|p| p.name.trim().eq_ignore_ascii_case(value.trim()))
                    });
                    match found {
                        Some(p) => member[p] = true,
                        None => errors.push(format!(
                            "The value '{value}' does not exist for the field 'project'."
                        )),
                    }
                }
                clauses.push(Bound::Projects {
                    member,
                    negated: *negated,
                });
            }
            Clause::Issue { values, negated } => {
                let mut member = HashSet::new();
                for value in values {
                    match site.find_issue(value) {
                        Some(i) => {
                            member.insert(i as u32);
                        }
                        None => errors.push(format!(
                            "An issue with key '{value}' does not exist for field 'key'."
                        )),
                    }
                }
                clauses.push(Bound::Issues {
                    member,
                    negated: *negated,
                });
            }
            Clause::Time { field, cmp, at } => clauses.push(Bound::Time {
                field: *field,
                cmp: *cmp,
                at: *at,
            }),
            Clause::IdRange { cmp, id } => {
                if site.id_ranges_need_an_issue && site.find_issue(&id.to_string()).is_none() {
                    errors.push(format!(
                        "An issue with key '{id}' does not exist for field 'id'."
                    ));
                }
                clauses.push(Bound::IdRange { cmp: *cmp, id: *id });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let order = if query.order.is_empty() {
        vec![DEFAULT_ORDER]
    } else {
        query.order.clone()
    };
    Ok(Plan {
        clauses,
        order,
        ordered: !query.order.is_empty(),
    })
}

impl Plan {
    /// Whether the query has its own ORDER BY.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    pub fn matches(&self, site: &Site, index: usize) -> bool {
        let issue = &site.issues[index];
        self.clauses.iter().all(|clause| match clause {
            Bound::Projects { member, negated } => member[issue.project as usize] != *negated,
            Bound::Issues { member, negated } => member.contains(&(index as u32)) != *negated,
            Bound::Time { field, cmp, at } => {
                let value = match field {
                    TimeField::Created => issue.created,
                    TimeField::Updated => issue.updated,
                };
                cmp.holds(value.cmp(at))
            }
            Bound::IdRange { cmp, id } => cmp.holds(issue.id.cmp(id)),
        })
    }

    /// Total order: the ORDER BY keys, then the issue id, so that paging by "after this row"
    /// never skips or repeats an issue.
    pub fn compare(&self, a: &SortRow, b: &SortRow) -> Ordering {
        for key in &self.order {
            let ordering = match key.field {
                SortField::Updated => a.updated.cmp(&b.updated),
                SortField::Created => a.created.cmp(&b.created),
                SortField::Key => a
                    .project_key
                    .cmp(b.project_key)
                    .then(a.number.cmp(&b.number)),
                SortField::Id => a.id.cmp(&b.id),
            };
            let ordering = if key.descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        a.id.cmp(&b.id)
    }

    /// Indexes of the matching issues, in order.
    pub fn run(&self, site: &Site) -> Vec<u32> {
        let mut hits: Vec<u32> = site
            .live_issues()
            .filter(|&i| self.matches(site, i))
            .map(|i| i as u32)
            .collect();
        hits.sort_unstable_by(|&a, &b| {
            self.compare(
                &SortRow::of(site, a as usize),
                &SortRow::of(site, b as usize),
            )
        });
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::jql::parse;

    fn run(site: &Site, jql: &str) -> Result<Vec<u32>, Vec<String>> {
        let query = parse(jql, site.tz).unwrap();
        Ok(bind(&query, site)?.run(site))
    }

    #[test]
    fn filters_by_project_key_id_and_name() {
        let site = Site::generate(&SimConfig::default());
        let web = run(&site, "project = WEB").unwrap();
        assert_eq!(web.len(), 20);
        assert_eq!(run(&site, "project = 10000").unwrap(), web);
        assert_eq!(run(&site, "project = 'platform ops'").unwrap().len(), 20);
        assert_eq!(run(&site, "project not in (WEB, OPS)").unwrap().len(), 20);
        assert_eq!(
            run(&site, "project = NOPE").unwrap_err(),
            ["The value 'NOPE' does not exist for the field 'project'."]
        );
    }

    #[test]
    fn default_order_is_newest_key_first_and_order_by_sorts() {
        let site = Site::generate(&SimConfig::default());
        let hits = run(&site, "project = WEB").unwrap();
        assert_eq!(site.issue_key(hits[0] as usize), "WEB-20");
        let hits = run(&site, "project = WEB ORDER BY updated ASC, key ASC").unwrap();
        let updated: Vec<i64> = hits
            .iter()
            .map(|&i| site.issues[i as usize].updated)
            .collect();
        assert!(updated.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn time_clauses_bound_both_sides() {
        let site = Site::generate(&SimConfig::default());
        let all = run(&site, "updated >= 0").unwrap();
        assert_eq!(all.len(), site.issues.len());
        let mid = site.issues[7].updated;
        let after = run(&site, &format!("updated > {mid}")).unwrap();
        let upto = run(&site, &format!("updated <= {mid}")).unwrap();
        assert_eq!(after.len() + upto.len(), site.issues.len());
        let first = site.issues[0].id;
        let above = run(&site, &format!("id > {first} AND id <= {}", first + 2)).unwrap();
        assert!(above.iter().all(|&i| site.issues[i as usize].id > first));
        assert_eq!(run(&site, "id > 0").unwrap().len(), site.issues.len());
        let keyed = run(&site, "key in (WEB-3, OPS-1) ORDER BY key").unwrap();
        assert_eq!(
            keyed
                .iter()
                .map(|&i| site.issue_key(i as usize))
                .collect::<Vec<_>>(),
            ["OPS-1", "WEB-3"]
        );
    }

    #[test]
    fn an_id_range_from_a_missing_issue_is_refused_when_configured() {
        let mut site = Site::generate(&SimConfig {
            id_ranges_need_an_issue: true,
            ..SimConfig::default()
        });
        let first = site.issues[0].id;
        assert_eq!(
            run(&site, &format!("id > {first}")).unwrap().len(),
            site.issues.len() - 1
        );
        assert!(site.delete_issue(&first.to_string()).is_some());
        for op in [">", ">=", "<", "<="] {
            assert_eq!(
                run(&site, &format!("id {op} {first} ORDER BY id")).unwrap_err(),
                [format!(
                    "An issue with key '{first}' does not exist for field 'id'."
                )]
            );
        }
        site.id_ranges_need_an_issue = false;
        assert!(run(&site, &format!("id > {first}")).is_ok());
    }
}
