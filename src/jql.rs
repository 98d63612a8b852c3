//! A small typed JQL builder: the tap never glues query strings from fragments elsewhere. Also the
//! conversion of a UTC instant into the minute-granular local time that JQL date clauses are read in.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Default)]
pub struct Jql {
    clauses: Vec<String>,
    order: Vec<(&'static str, Order)>,
}

impl Jql {
    pub fn new() -> Self {
        Jql::default()
    }

    /// `field >= "yyyy/MM/dd HH:mm"`, a time in the Jira user's zone.
    pub fn at_or_after(mut self, field: &'static str, local: NaiveDateTime) -> Self {
        self.clauses
            .push(format!("{field} >= \"{}\"", local.format("%Y/%m/%d %H:%M")));
        self
    }

    /// `field < "yyyy/MM/dd HH:mm"`, a time in the Jira user's zone.
    pub fn before(mut self, field: &'static str, local: NaiveDateTime) -> Self {
        self.clauses
            .push(format!("{field} < \"{}\"", local.format("%Y/%m/%d %H:%M")));
        self
    }

    /// `id > n`: issues by their numeric id, for paging by id.
    pub fn id_after(mut self, id: u64) -> Self {
        self.clauses.push(format!("id > {id}"));
        self
    }

    /// The user's own JQL, in parentheses so that its `OR`s stay inside it.
    pub fn users(mut self, jql: &str) -> Self {
        self.clauses.push(format!("({jql})"));
        self
    }

    /// Every clause of `other` too.
    pub fn and(mut self, other: &Jql) -> Self {
        self.clauses.extend(other.clauses.iter().cloned());
        self
    }

    /// `field in (…)`, or `field not in (…)` when `negated`; values are quoted.
    pub fn field_in(mut self, field: &'static str, values: &[String], negated: bool) -> Self {
        let quoted: Vec<String> = values
            .iter()
            .map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let not = if negated { "not " } else { "" };
        self.clauses
            .push(format!("{field} {not}in ({})", quoted.join(", ")));
        self
    }

    /// `project in (…)`, or `project not in (…)` when `negated`; ids are quoted.
    pub fn project_in(self, ids: &[String], negated: bool) -> Self {
        self.field_in("project", ids, negated)
    }

    pub fn order_by(mut self, field: &'static str, order: Order) -> Self {
        self.order.push((field, order));
        self
    }

    pub fn render(&self) -> String {
        let mut jql = self.clauses.join(" AND ");
        if !self.order.is_empty() {
            let order: Vec<String> = self
                .order
                .iter()
                .map(|(field, order)| {
                    let dir = if *order == Order::Asc { "ASC" } else { "DESC" };
                    format!("{field} {dir}")
                })
                .collect();
            if !jql.is_empty() {
                jql.push(' ');
            }
            jql.push_str("ORDER BY ");
            jql.push_str(&order.join(", "));
        }
        jql
    }
}

/// Whether `jql` has an `ORDER BY` clause: the two words in any case, any whitespace (a newline)
/// between them, outside quoted strings (`summary ~ "order by"` is a value, and valid).
pub fn has_order_by(jql: &str) -> bool {
    // Unquoted words in order; a quoted string or an operator is an empty word between them.
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut chars = jql.chars();
    while let Some(c) = chars.next() {
        let quote = c == '"' || c == '\'';
        if !(c.is_whitespace() || quote || "=!<>~(),".contains(c)) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if quote {
            skip_quoted(&mut chars, c);
        }
        if !c.is_whitespace() {
            words.push(String::new());
        }
    }
    words.push(word);
    words
        .windows(2)
        .any(|w| w[0].eq_ignore_ascii_case("order") && w[1].eq_ignore_ascii_case("by"))
}

/// Whether every `(` of `jql` outside quoted strings is closed, by a `)` after it. The tap puts
/// the user's JQL in parentheses: one that closed them early (`a = 1) OR (b = 2`) would leave an
/// `OR` outside, where the tap's project and date clauses bind to its last part only.
pub fn parentheses_pair(jql: &str) -> bool {
    let mut depth = 0usize;
    let mut chars = jql.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => skip_quoted(&mut chars, c),
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(outer) => depth = outer,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

/// Moves `chars`, just past an opening `quote`, to just past its closing one; a backslash escapes
/// the character after it.
fn skip_quoted(chars: &mut std::str::Chars<'_>, quote: char) {
    while let Some(inside) = chars.next() {
        match inside {
            '\\' => {
                chars.next();
            }
            _ if inside == quote => break,
            _ => {}
        }
    }
}

/// The latest local minute, in `tz`, that is certainly not after `t` however Jira resolves it.
/// JQL dates are minute-granular and read in the user's zone; in the hour a DST change repeats,
/// a local time has two meanings, so step back an hour to a minute whose both meanings are safe.
pub fn local_minute_at_or_before(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let local = local_minute_of(t, tz);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(_) => local,
        _ => local_minute_of(t - Duration::hours(1), tz),
    }
}

/// The local minute, in `tz`, that `t` falls in.
fn local_minute_of(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let local = t.with_timezone(&tz).naive_local();
    local
        .with_second(0)
        .and_then(|l| l.with_nanosecond(0))
        .unwrap_or(local)
}

/// A local minute, in `tz`, that is certainly after `t` however Jira resolves it: for an upper
/// bound (`<`). A local time that a DST change repeats (or skips) could be read an hour too
/// early, so step forward to a minute that has one meaning: past the repeated hour, the search
/// is wider, never shorter.
pub fn local_minute_after(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    // A repeated hour is two hours of UTC: at most two steps past it.
    let mut after = t + Duration::minutes(1);
    for _ in 0..3 {
        let local = local_minute_of(after, tz);
        if matches!(tz.from_local_datetime(&local), LocalResult::Single(_)) {
            return local;
        }
        after += Duration::hours(1);
    }
    local_minute_of(after, tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn renders_restriction_and_order() {
        let jql = Jql::new()
            .at_or_after("updated", utc("2024-01-31T13:05:59Z").naive_utc())
            .order_by("updated", Order::Asc)
            .order_by("key", Order::Asc)
            .render();
        assert_eq!(
            jql,
            r#"updated >= "2024/01/31 13:05" ORDER BY updated ASC, key ASC"#
        );
        let scoped = Jql::new()
            .project_in(&["10000".into(), "a\"b".into()], true)
            .order_by("key", Order::Asc)
            .render();
        assert_eq!(
            scoped,
            r#"project not in ("10000", "a\"b") ORDER BY key ASC"#
        );
    }

    #[test]
    fn converts_to_the_users_zone_and_floors_to_the_minute() {
        let t = utc("2024-01-31T13:05:42.500Z");
        let at = |tz: Tz| {
            local_minute_at_or_before(t, tz)
                .format("%Y/%m/%d %H:%M")
                .to_string()
        };
        assert_eq!(at(chrono_tz::Asia::Kolkata), "2024/01/31 18:35");
        assert_eq!(at(chrono_tz::America::Los_Angeles), "2024/01/31 05:05");
        assert_eq!(at(chrono_tz::Pacific::Chatham), "2024/02/01 02:50");
    }

    #[test]
    fn steps_back_in_a_repeated_dst_hour() {
        // 2024-11-03 01:30 happens twice in Los Angeles; 08:30Z is the first, 09:30Z the second.
        let tz = chrono_tz::America::Los_Angeles;
        let local = local_minute_at_or_before(utc("2024-11-03T09:30:00Z"), tz);
        let earliest = tz.from_local_datetime(&local).earliest().unwrap();
        let latest = tz.from_local_datetime(&local).latest().unwrap();
        assert!(latest <= utc("2024-11-03T09:30:00Z") && earliest <= latest);
    }

    #[test]
    fn an_upper_bound_steps_past_a_repeated_dst_hour() {
        // 08:00Z-10:00Z is 01:00-02:00 twice in Los Angeles: a bound in either pass must not be
        // read as an earlier instant than it is.
        let tz = chrono_tz::America::Los_Angeles;
        for bound in [
            "2024-11-03T08:40:00Z",
            "2024-11-03T09:30:00Z",
            "2024-11-03T09:59:30Z",
        ] {
            let local = local_minute_after(utc(bound), tz);
            let earliest = tz.from_local_datetime(&local).earliest().unwrap();
            assert!(earliest > utc(bound), "{bound}: {local}");
        }
        // Elsewhere, the next minute: the search is a minute wider at most.
        let local = local_minute_after(utc("2024-01-31T13:05:42Z"), tz);
        assert_eq!(
            local.format("%Y/%m/%d %H:%M").to_string(),
            "2024/01/31 05:06"
        );
        // A bound just before the hour DST skips: 02:xx does not exist on 2024-03-10.
        let local = local_minute_after(utc("2024-03-10T09:59:30Z"), tz);
        let single = tz.from_local_datetime(&local).single().unwrap();
        assert!(single > utc("2024-03-10T09:59:30Z"), "{local}");
    }
}
