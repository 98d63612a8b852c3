//! An analyst's first questions, asked in SQL of the tables the demo loaded, and the answers as
//! aligned text tables. The SQL is meant to be read: it runs as is in any SQLite client.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Params, params_from_iter};

use super::sqlite::quoted;

/// A query's answer: its column names and rows, in the query's order.
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// The statuses issues are in, in workflow order (to do, in progress, done: their categories).
const STATUSES: &str = "
SELECT fields ->> '$.status.name' AS status
FROM issues
WHERE fields ->> '$.status.name' IS NOT NULL
GROUP BY status
ORDER BY MIN(CASE fields ->> '$.status.statusCategory.key'
             WHEN 'new' THEN 0 WHEN 'indeterminate' THEN 1 ELSE 2 END), status";

/// Issues per project, a column per status (`{counts}`: one `COUNT(*) FILTER` per status).
const ISSUES_PER_STATUS: &str = "
SELECT project{counts}, COUNT(*) AS total
FROM (SELECT fields ->> '$.project.key' AS project, fields ->> '$.status.name' AS status
      FROM issues)
GROUP BY project
ORDER BY total DESC, project";

/// Each visit of an issue to a status, from the status change that entered it (or the issue's
/// creation) to the one that left it; statuses issues are still in have no finished visit.
const TIME_IN_STATUS: &str = "
WITH visits AS (
  SELECT h.fromString AS status,
         LAG(h.created, 1, i.created)
           OVER (PARTITION BY h.issueId ORDER BY h.created, CAST(h.historyId AS INTEGER)) AS entered_at,
         h.created AS left_at
  FROM issue_field_history AS h JOIN issues AS i ON i.id = h.issueId
  WHERE h.field = 'status' AND h.fieldtype = 'jira'
)
SELECT status,
       COUNT(*) AS visits,
       AVG(julianday(left_at) - julianday(entered_at)) AS \"average days\",
       MAX(julianday(left_at) - julianday(entered_at)) AS \"longest days\"
FROM visits
GROUP BY status
ORDER BY \"average days\" DESC";

/// Hours logged per person, as worklogs say (`timeSpentSeconds`).
const WORKLOG_HOURS: &str = "
SELECT COALESCE(author ->> '$.displayName', '(nobody)') AS author,
       COUNT(*) AS worklogs,
       SUM(timeSpentSeconds) / 3600.0 AS hours
FROM worklogs
GROUP BY author
ORDER BY hours DESC, author";

pub fn issues_per_status(db: &Connection) -> rusqlite::Result<Table> {
    let statuses: Vec<String> = db
        .prepare(STATUSES)?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let counts: String = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            format!(
                ", COUNT(*) FILTER (WHERE status = ?{}) AS {}",
                i + 1,
                quoted(status)
            )
        })
        .collect();
    let sql = ISSUES_PER_STATUS.replace("{counts}", &counts);
    query(
        db,
        "Issues per status per project",
        &sql,
        params_from_iter(&statuses),
    )
}

pub fn time_in_status(db: &Connection) -> rusqlite::Result<Table> {
    query(
        db,
        "Time in status (finished visits, from issue_field_history)",
        TIME_IN_STATUS,
        [],
    )
}

pub fn worklog_hours(db: &Connection) -> rusqlite::Result<Table> {
    query(db, "Hours logged per person (worklogs)", WORKLOG_HOURS, [])
}

fn query(db: &Connection, title: &str, sql: &str, params: impl Params) -> rusqlite::Result<Table> {
    let mut statement = db.prepare(sql)?;
    let columns: Vec<String> = statement.column_names().map(String::from).collect();
    let width = columns.len();
    let rows = statement
        .query_map(params, |row| (0..width).map(|i| row.get(i)).collect())?
        .collect::<Result<_, _>>()?;
    Ok(Table {
        title: title.to_string(),
        columns,
        rows,
    })
}

impl Table {
    /// The title, then the first `max_rows` rows under the column names: text to the left,
    /// numbers to the right, fractions to one decimal.
    pub fn render(&self, max_rows: usize) -> String {
        let shown = &self.rows[..self.rows.len().min(max_rows)];
        let cells: Vec<Vec<String>> = shown
            .iter()
            .map(|row| row.iter().map(cell).collect())
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|row| row[i].chars().count())
                    .chain([self.columns[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // A column is numeric when its shown values are; its header aligns with them.
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                shown
                    .iter()
                    .all(|row| matches!(row[i], SqlValue::Integer(_) | SqlValue::Real(_)))
            })
            .collect();
        let line = |texts: &[String]| {
            let padded: Vec<String> = texts
                .iter()
                .zip(&widths)
                .zip(&numeric)
                .map(|((text, &width), &right)| {
                    let pad = " ".repeat(width - text.chars().count());
                    if right {
                        format!("{pad}{text}")
                    } else {
                        format!("{text}{pad}")
                    }
                })
                .collect();
            format!("  {}\n", padded.join("  ").trim_end())
        };
        let mut out = format!("{}\n", self.title);
        out += &line(&self.columns);
        out += &line(&widths.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>());
        for row in &cells {
            out += &line(row);
        }
        if self.rows.len() > shown.len() {
            out += &format!("  … and {} more\n", self.rows.len() - shown.len());
        }
        out
    }
}

fn cell(value: &SqlValue) -> String {
    match value {
        SqlValue::Null => String::new(),
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(x) => format!("{x:.1}"),
        SqlValue::Text(text) => text.clone(),
        SqlValue::Blob(bytes) => format!("({} bytes)", bytes.len()),
    }
}
