//! The JQL subset the simulator understands: clauses joined by AND on `project`, `key`/`id`,
//! `created` and `updated`, and `ORDER BY` on `updated`, `created`, `key`, `id`. Dates are read in
//! the user's time zone, at minute granularity, as Jira does.

mod eval;
mod lexer;

use chrono_tz::Tz;

use crate::times;
pub(crate) use eval::{Plan, SortRow, bind};
use lexer::{Spanned, Tok, lex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeField {
    Created,
    Updated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    /// Whether a value that compares `ordering` to the clause's operand satisfies it.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Cmp::Eq => ordering == Equal,
            Cmp::Ne => ordering != Equal,
            Cmp::Gt => ordering == Greater,
            Cmp::Ge => ordering != Less,
            Cmp::Lt => ordering == Less,
            Cmp::Le => ordering != Greater,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Clause {
    /// `project = X`, `project != X`, `project in (...)`, `project not in (...)`.
    Project { values: Vec<String>, negated: bool },
    /// `key = X`, `key in (...)`, and the same on `id`.
    Issue { values: Vec<String>, negated: bool },
    /// `updated >= "2024/01/31 13:05"`; `at` is epoch milliseconds.
    Time { field: TimeField, cmp: Cmp, at: i64 },
    /// `id > 10042` (also `>=`, `<`, `<=`): issues by their numeric id, which need not exist.
    IdRange { cmp: Cmp, id: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortField {
    Updated,
    Created,
    Key,
    Id,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Query {
    pub clauses: Vec<Clause>,
    pub order: Vec<SortKey>,
}

impl Query {
    /// Whether the query restricts anything: `/search/jql` refuses queries that do not.
    pub fn is_bounded(&self) -> bool {
        !self.clauses.is_empty()
    }
}

/// Parses `text`, reading date literals in `tz`. Errors are Jira's messages.
pub(crate) fn parse(text: &str, tz: Tz) -> Result<Query, String> {
    let tokens = lex(text).map_err(|(what, at)| {
        format!(
            "Error in the JQL Query: The character '{what}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u{:04x}' instead. (line 1, character {at})",
            what.chars().next().map_or(0, |c| c as u32)
        )
    })?;
    Parser { tokens, pos: 0, tz }.query()
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    tz: Tz,
}

const VALID_DATES: &str = "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.";

impl Parser {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Spanned> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        self.peek().is_some_and(|s| s.tok.is_keyword(kw))
    }

    /// Jira's "Expecting X but got Y" message, at the current token.
    fn expecting(&self, what: &str) -> String {
        match self.peek() {
            Some(s) => format!(
                "Error in the JQL Query: Expecting {what} but got '{}'. (line 1, character {})",
                s.tok.text(),
                s.at
            ),
            None => {
                format!("Error in the JQL Query: Expecting {what} before the end of the query.")
            }
        }
    }

    fn query(mut self) -> Result<Query, String> {
        let mut clauses = Vec::new();
        if self.peek().is_some() && !self.peek_keyword("order") {
            self.and_clauses(&mut clauses)?;
        }
        self.order_by(clauses)
    }

    /// `clause AND clause …`, where a clause may be an AND-group in parentheses (as a tap wraps
    /// a user's own JQL).
    fn and_clauses(&mut self, clauses: &mut Vec<Clause>) -> Result<(), String> {
        loop {
            if matches!(self.peek().map(|s| &s.tok), Some(Tok::LParen)) {
                self.pos += 1;
                self.and_clauses(clauses)?;
                if !matches!(self.next().map(|s| s.tok), Some(Tok::RParen)) {
                    self.pos -= 1;
                    return Err(self.expecting("')'"));
                }
            } else {
                clauses.push(self.clause()?);
            }
            if self.peek_keyword("and") {
                self.pos += 1;
            } else if self.peek_keyword("or") {
                let at = self.peek().map_or(0, |s| s.at);
                return Err(format!(
                    "Error in the JQL Query: the simulator supports only AND between clauses, not 'OR'. (line 1, character {at})"
                ));
            } else {
                return Ok(());
            }
        }
    }

    fn order_by(mut self, clauses: Vec<Clause>) -> Result<Query, String> {
        let mut order = Vec::new();
        if self.peek_keyword("order") {
            self.pos += 1;
            if !self.peek_keyword("by") {
                return Err(self.expecting("'by'"));
            }
            self.pos += 1;
            loop {
                order.push(self.sort_key()?);
                if matches!(
                    self.peek(),
                    Some(Spanned {
                        tok: Tok::Comma,
                        ..
                    })
                ) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        if self.peek().is_some() {
            return Err(self.expecting("either 'OR' or 'AND'"));
        }
        Ok(Query { clauses, order })
    }

    fn field_name(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Spanned {
                tok: Tok::Word(w) | Tok::Quoted(w),
                ..
            }) => Ok(w),
            _ => {
                self.pos -= 1;
                Err(self.expecting("a field name"))
            }
        }
    }

    fn sort_key(&mut self) -> Result<SortKey, String> {
        let field = self.field_name()?;
        let field = match field.to_ascii_lowercase().as_str() {
            "updated" | "updateddate" => SortField::Updated,
            "created" | "createddate" => SortField::Created,
            "key" | "issuekey" => SortField::Key,
            "id" => SortField::Id,
            _ => return Err(format!("Not able to sort using field '{field}'.")),
        };
        let descending = if self.peek_keyword("desc") {
            self.pos += 1;
            true
        } else {
            if self.peek_keyword("asc") {
                self.pos += 1;
            }
            false
        };
        Ok(SortKey { field, descending })
    }

    fn clause(&mut self) -> Result<Clause, String> {
        let field = self.field_name()?;
        let operator = self.operator()?;
        let lower = field.to_ascii_lowercase();
        match lower.as_str() {
            "project" | "key" | "issuekey" | "issue" | "id" => {
                let (values, negated) = match operator.as_str() {
                    "=" => (vec![self.value()?], false),
                    "!=" => (vec![self.value()?], true),
                    "in" => (self.list()?, false),
                    "not in" => (self.list()?, true),
                    ">" | ">=" | "<" | "<=" if lower == "id" => {
                        let cmp = match operator.as_str() {
                            ">" => Cmp::Gt,
                            ">=" => Cmp::Ge,
                            "<" => Cmp::Lt,
                            _ => Cmp::Le,
                        };
                        let text = self.value()?;
                        let id = text.trim().parse::<u64>().map_err(|_| {
                            format!("The value '{text}' is not a valid issue id for field 'id'.")
                        })?;
                        return Ok(Clause::IdRange { cmp, id });
                    }
                    op => return Err(unsupported(op, &field)),
                };
                Ok(if lower == "project" {
                    Clause::Project { values, negated }
                } else {
                    Clause::Issue { values, negated }
                })
            }
            "updated" | "updateddate" | "created" | "createddate" => {
                let time_field = if lower.starts_with("updated") {
                    TimeField::Updated
                } else {
                    TimeField::Created
                };
                let cmp = match operator.as_str() {
                    "=" => Cmp::Eq,
                    "!=" => Cmp::Ne,
                    ">" => Cmp::Gt,
                    ">=" => Cmp::Ge,
                    "<" => Cmp::Lt,
                    "<=" => Cmp::Le,
                    op => return Err(unsupported(op, &field)),
                };
                let text = self.value()?;
                let at = date_value(&text, self.tz).ok_or_else(|| {
                    format!("Date value '{text}' for field '{field}' is invalid. {VALID_DATES}")
                })?;
                Ok(Clause::Time {
                    field: time_field,
                    cmp,
                    at,
                })
            }
            _ => Err(format!(
                "Field '{field}' does not exist or you do not have permission to view it."
            )),
        }
    }

    /// `=`, `!=`, `>`..., or the keywords `in` / `not in`, lowercased.
    fn operator(&mut self) -> Result<String, String> {
        match self.peek().map(|s| s.tok.clone()) {
            Some(Tok::Op(op)) => {
                self.pos += 1;
                Ok(op.to_string())
            }
            Some(t) if t.is_keyword("in") => {
                self.pos += 1;
                Ok("in".into())
            }
            Some(t) if t.is_keyword("not") => {
                self.pos += 1;
                if !self.peek_keyword("in") {
                    return Err(self.expecting("'IN'"));
                }
                self.pos += 1;
                Ok("not in".into())
            }
            Some(t) if t.is_keyword("is") => Err(format!(
                "Error in the JQL Query: the simulator does not support 'IS'. (line 1, character {})",
                self.peek().map_or(0, |s| s.at)
            )),
            _ => Err(self.expecting("operator")),
        }
    }

    fn value(&mut self) -> Result<String, String> {
        match self.peek().map(|s| s.tok.clone()) {
            Some(Tok::Quoted(q)) => {
                self.pos += 1;
                Ok(q)
            }
            Some(Tok::Word(w))
                if !["and", "or", "order", "empty", "null"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.expecting("either a value, list or function")),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, String> {
        if !matches!(
            self.peek(),
            Some(Spanned {
                tok: Tok::LParen,
                ..
            })
        ) {
            return Err(self.expecting("'('"));
        }
        self.pos += 1;
        let mut values = vec![self.value()?];
        loop {
            match self.peek().map(|s| s.tok.clone()) {
                Some(Tok::Comma) => {
                    self.pos += 1;
                    values.push(self.value()?);
                }
                Some(Tok::RParen) => {
                    self.pos += 1;
                    return Ok(values);
                }
                _ => return Err(self.expecting("')'")),
            }
        }
    }
}

fn unsupported(op: &str, field: &str) -> String {
    format!("The operator '{op}' is not supported by the '{field}' field.")
}

/// A date literal, epoch milliseconds (`1706706300000`), or a period relative to now (`-5d`).
fn date_value(text: &str, tz: Tz) -> Option<i64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    times::parse_jql_date(text, tz).or_else(|| relative(text))
}

/// A single-unit period like `-5d`, `2h`, `-30m`, `1w` from now.
fn relative(text: &str) -> Option<i64> {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let unit = rest.chars().last()?;
    let amount: i64 = rest[..rest.len() - unit.len_utf8()].parse().ok()?;
    let unit_ms = match unit {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return None,
    };
    Some(times::now_ms() + sign * amount * unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::times::{Offset, timestamp, zone};

    fn la() -> Tz {
        zone("America/Los_Angeles")
    }

    #[test]
    fn a_parenthesised_group_of_and_clauses_is_one_more_restriction() {
        let q = parse(
            r#"project = WEB AND (key in (WEB-1, WEB-2) AND created >= "2024/01/31") ORDER BY key"#,
            la(),
        )
        .unwrap();
        assert_eq!(q.clauses.len(), 3);
        assert!(
            parse("(project = WEB", la())
                .unwrap_err()
                .contains("Expecting ')'")
        );
    }

    #[test]
    fn parses_the_taps_incremental_query() {
        let q = parse(
            r#"project in (WEB, "OPS", 10002) AND updated >= "2024/01/31 13:05" ORDER BY updated ASC, key ASC"#,
            la(),
        )
        .unwrap();
        assert_eq!(q.clauses.len(), 2);
        assert_eq!(
            q.clauses[0],
            Clause::Project {
                values: vec!["WEB".into(), "OPS".into(), "10002".into()],
                negated: false
            }
        );
        let Clause::Time { field, cmp, at } = q.clauses[1] else {
            panic!()
        };
        assert_eq!((field, cmp), (TimeField::Updated, Cmp::Ge));
        assert_eq!(timestamp(at, Offset::Utc), "2024-01-31T21:05:00.000+0000");
        assert_eq!(
            q.order,
            [
                SortKey {
                    field: SortField::Updated,
                    descending: false
                },
                SortKey {
                    field: SortField::Key,
                    descending: false
                }
            ]
        );
    }

    #[test]
    fn keywords_are_case_insensitive_and_forms_vary() {
        let q = parse(
            "Project NOT IN (web) and CREATED < '2024-02-01' order by Created desc",
            la(),
        )
        .unwrap();
        assert_eq!(
            q.clauses[0],
            Clause::Project {
                values: vec!["web".into()],
                negated: true
            }
        );
        assert!(matches!(
            q.clauses[1],
            Clause::Time {
                field: TimeField::Created,
                cmp: Cmp::Lt,
                ..
            }
        ));
        assert!(q.order[0].descending);
        let q = parse("key in (WEB-1, WEB-2) AND updated > 1706706300000", la()).unwrap();
        assert_eq!(
            q.clauses[1],
            Clause::Time {
                field: TimeField::Updated,
                cmp: Cmp::Gt,
                at: 1_706_706_300_000
            }
        );
        assert!(parse("updated >= -5d", la()).is_ok());
    }

    #[test]
    fn unbounded_queries_are_recognised() {
        assert!(!parse("ORDER BY updated", la()).unwrap().is_bounded());
        assert!(!parse("", la()).unwrap().is_bounded());
        assert!(parse("project = WEB", la()).unwrap().is_bounded());
    }

    #[test]
    fn errors_read_like_jira() {
        let e = parse("project WEB", la()).unwrap_err();
        assert_eq!(
            e,
            "Error in the JQL Query: Expecting operator but got 'WEB'. (line 1, character 9)"
        );
        let e = parse("updated >= \"31/01/2024\"", la()).unwrap_err();
        assert!(
            e.starts_with("Date value '31/01/2024' for field 'updated' is invalid."),
            "{e}"
        );
        let e = parse("assignee = x", la()).unwrap_err();
        assert_eq!(
            e,
            "Field 'assignee' does not exist or you do not have permission to view it."
        );
        let e = parse("project = A OR project = B", la()).unwrap_err();
        assert!(e.contains("'OR'"), "{e}");
        let e = parse("project = A ORDER BY summary", la()).unwrap_err();
        assert_eq!(e, "Not able to sort using field 'summary'.");
        let e = parse("project = A extra", la()).unwrap_err();
        assert!(
            e.contains("Expecting either 'OR' or 'AND' but got 'extra'"),
            "{e}"
        );
        let e = parse("project in (A, B", la()).unwrap_err();
        assert!(e.contains("before the end of the query"), "{e}");
        let e = parse("project = A & B", la()).unwrap_err();
        assert!(e.contains("reserved JQL character"), "{e}");
        assert!(parse("updated > \"2024-01-31\"", la()).is_ok());
        assert!(
            parse("project > A", la())
                .unwrap_err()
                .contains("operator '>'")
        );
    }
}
