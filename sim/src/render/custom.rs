//! Custom field values: one generator per custom field type, each giving values of the shape
//! Jira sends for it (options `{self, value, id}`, cascading `child`, users, groups, versions,
//! sprints, LexoRank strings...), null for about a third of the issues.

use serde_json::{Value, json};

use crate::render::issue::rng_for;
use crate::render::{self as r, Ctx};
use crate::rng::{Rng, RngExt, pick};
use crate::site::fields::{Custom, FieldDef, REGIONS, option_values};
use crate::site::reference::EPIC;
use crate::times::{self, Offset};

const DAY_MS: i64 = 86_400_000;

const CUSTOMERS: &[&str] = &[
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella GmbH",
    "Société Générale des Tests",
    "Stark Industries",
];

/// A non-empty subset of `0..n`, in order.
fn subset(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = (0..n).filter(|_| rng.random_bool(0.5)).collect();
    if chosen.is_empty() && n > 0 {
        chosen.push(rng.random_range(0..n));
    }
    chosen
}

/// The value of custom field `field` (of type `kind`) on one issue.
pub(super) fn value(ctx: &Ctx, index: usize, field: &FieldDef, kind: Custom) -> Value {
    let site = ctx.site;
    let issue = &site.issues[index];
    let project = &site.projects[issue.project as usize];
    let mut rng = rng_for(ctx, index, field.custom_number());
    // Fields that every issue carries whatever happens.
    match kind {
        Custom::Rank => return json!(format!("0|i{}:", base36(index as u64 + 73, 5))),
        Custom::ParentLink if ctx.cloud() => {
            return json!({
                "hasEpicLinkFieldDependency": false,
                "showField": false,
                "nonEditableReason": {
                    "reason": "PLUGIN_LICENSE_ERROR",
                    "message": "The Parent Link is only available to Jira Premium users."
                }
            });
        }
        Custom::Sprint => {
            let sprints = site.sprint_membership(index);
            if sprints.is_empty() {
                return Value::Null;
            }
            return json!(
                sprints
                    .into_iter()
                    .map(|k| r::sprint(ctx, &project.sprints[k]))
                    .collect::<Vec<_>>()
            );
        }
        Custom::EpicLink => {
            return match issue.parent {
                Some(p) if site.issues[p as usize].issue_type == EPIC => {
                    json!(site.issue_key(p as usize))
                }
                _ => Value::Null,
            };
        }
        _ => {}
    }
    if rng.random_bool(0.35) {
        return Value::Null;
    }
    match kind {
        Custom::Float => json!(rng.random_range(0..10_000_000) as f64 / 1000.0),
        Custom::StoryPoints => json!([1.0, 2.0, 3.0, 5.0, 8.0, 13.0][rng.random_range(0..6)]),
        Custom::TextField => json!(pick(&mut rng, CUSTOMERS)),
        Custom::Select | Custom::RadioButtons => {
            let values = option_values(kind);
            let k = rng.random_range(0..values.len());
            r::option(ctx, field.option_id(k), values[k])
        }
        Custom::MultiSelect | Custom::MultiCheckboxes => {
            let values = option_values(kind);
            json!(
                subset(&mut rng, values.len())
                    .into_iter()
                    .map(|k| r::option(ctx, field.option_id(k), values[k]))
                    .collect::<Vec<_>>()
            )
        }
        Custom::Cascading => {
            let k = rng.random_range(0..REGIONS.len());
            let (parent, children) = REGIONS[k];
            let mut value = r::option(ctx, field.option_id(k), parent);
            if rng.random_bool(0.8) {
                let c = rng.random_range(0..2);
                value["child"] = r::option(ctx, field.option_id(3 + k * 2 + c), children[c]);
            }
            value
        }
        Custom::DatePicker => json!(times::date(
            issue.created + rng.random_range(0..90) * DAY_MS
        )),
        Custom::DateTime => {
            let at = issue.created + rng.random_range(0..90 * 24) * 3_600_000;
            let offset = if rng.random_bool(0.5) {
                Offset::Utc
            } else {
                Offset::Fixed(10 * 3600)
            };
            json!(times::timestamp(at, offset))
        }
        Custom::UserPicker => r::user(ctx, rng.random_range(0..site.people.humans)),
        Custom::MultiUserPicker => json!(
            subset(&mut rng, site.people.humans.min(4))
                .into_iter()
                .map(|u| r::user(ctx, u))
                .collect::<Vec<_>>()
        ),
        Custom::GroupPicker => r::group(ctx, rng.random_range(0..site.people.groups.len())),
        Custom::MultiGroupPicker => json!(
            subset(&mut rng, site.people.groups.len())
                .into_iter()
                .map(|g| r::group(ctx, g))
                .collect::<Vec<_>>()
        ),
        Custom::Labels => {
            const TAGS: &[&str] = &["alpha", "beta", "q3-goal", "customer_escalation"];
            json!(
                subset(&mut rng, TAGS.len())
                    .into_iter()
                    .map(|k| TAGS[k])
                    .collect::<Vec<_>>()
            )
        }
        Custom::Url => json!(format!(
            "https://docs.example.com/design/{}",
            site.issue_key(index)
        )),
        Custom::Version => r::version(
            ctx,
            &project.versions[rng.random_range(0..project.versions.len())],
        ),
        Custom::MultiVersion => json!(
            subset(&mut rng, project.versions.len())
                .into_iter()
                .map(|k| r::version(ctx, &project.versions[k]))
                .collect::<Vec<_>>()
        ),
        Custom::Project => r::project_ref(ctx, rng.random_range(0..site.projects.len())),
        Custom::AppMood => {
            const MOODS: &[(&str, &str)] = &[("happy", "😄"), ("meh", "😐"), ("grumpy", "😠")];
            let (label, emoji) = pick(&mut rng, MOODS);
            json!({ "label": label, "emoji": emoji, "score": rng.random_range(1..=5) })
        }
        // Rich text is written by `rich_doc`; the rest returned above.
        Custom::TextArea
        | Custom::ParentLink
        | Custom::Rank
        | Custom::EpicLink
        | Custom::Sprint => Value::Null,
    }
}

fn base36(mut n: u64, width: usize) -> String {
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(std::char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
    }
    while digits.len() < width {
        digits.push('0');
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_look_like_lexorank() {
        assert_eq!(base36(73, 5), "00021");
    }
}
