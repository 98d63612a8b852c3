//! The issues bookmark: how far the stream got, and which recent issue versions were already
//! written, so a rerun re-reads a window behind the bookmark without emitting anything twice.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::timestamp::{format_utc, parse_in_range};

/// Most issue versions a bookmark remembers; past it the oldest are forgotten, and a rerun may write
/// those again (never skip them).
const MAX_REMEMBERED: usize = 1000;

/// Every issue updated before `window_start` was written; inside `[window_start, updated]` exactly
/// the versions in `seen` were. Each run reads again from `window_start` (JQL dates are
/// minute-granular, and Cloud's search index shows some changes late), and writes only what
/// `seen` lacks.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    /// The newest `updated` written.
    pub updated: DateTime<Utc>,
    pub window_start: DateTime<Utc>,
    /// (updated, id), oldest first.
    seen: VecDeque<(DateTime<Utc>, String)>,
    /// id → the version of it that was written.
    by_id: HashMap<String, DateTime<Utc>>,
    /// Whether versions inside the window had to be forgotten (said once in the log).
    overflowed: bool,
    /// Versions from this instant on are remembered even once the window has passed them (up to
    /// the same bound), so partitions can fold into one bookmark (see `Bookmark::fold`).
    remember_from: Option<DateTime<Utc>>,
    /// The window's start when this run began: what is older was written by an earlier run.
    /// Not saved; a state read back starts from its `window_start`.
    read_from: DateTime<Utc>,
    /// When this run's search began: the window moves no further than the look-back behind it
    /// (see `record`). Not saved.
    began: Option<DateTime<Utc>>,
}

impl Bookmark {
    /// Nothing written yet: everything from `t` on is to be read.
    pub fn starting_at(t: DateTime<Utc>) -> Bookmark {
        Bookmark {
            updated: t,
            window_start: t,
            seen: VecDeque::new(),
            by_id: HashMap::new(),
            overflowed: false,
            remember_from: None,
            read_from: t,
            began: None,
        }
    }

    /// The window stops at the look-back behind `t`, when the search began, however far ahead
    /// a version it writes is dated.
    pub fn began_at(mut self, t: DateTime<Utc>) -> Bookmark {
        self.began = Some(t);
        self
    }

    /// Keeps the versions written from `t` on, for `fold`.
    pub fn remember_from(mut self, t: DateTime<Utc>) -> Bookmark {
        self.remember_from = Some(t);
        self
    }

    /// Claims less: only what was written before `t` counts as written outside `seen`.
    pub fn widen_to(&mut self, t: DateTime<Utc>) {
        self.window_start = self.window_start.min(t);
        self.read_from = self.read_from.min(t);
    }

    /// One bookmark for the whole site from partitions that were all read to their end, each
    /// from `origin` or from where it got to in an earlier run, its first search made after
    /// `started`: every issue updated before `started - lookback` was written by its partition,
    /// and so was every version in the partitions' `seen`. The window trails the newest version
    /// by `lookback`, as a single search's would.
    pub fn fold<'a>(
        origin: &Bookmark,
        partitions: impl IntoIterator<Item = &'a Bookmark>,
        started: DateTime<Utc>,
        lookback: Duration,
    ) -> Bookmark {
        let partitions: Vec<&Bookmark> = partitions.into_iter().collect();
        let updated = partitions
            .iter()
            .map(|p| p.updated)
            .fold(origin.updated, DateTime::max);
        let mut folded = Bookmark::starting_at(updated);
        folded.window_start = (started.min(updated) - lookback)
            .max(origin.window_start)
            .min(updated);
        folded.read_from = folded.window_start;
        let mut versions: HashMap<&str, DateTime<Utc>> = HashMap::new();
        for (id, t) in std::iter::once(origin)
            .chain(partitions)
            .flat_map(|b| b.by_id.iter())
        {
            let newest = versions.entry(id).or_insert(*t);
            *newest = (*newest).max(*t);
        }
        let mut entries: Vec<(DateTime<Utc>, String)> = versions
            .into_iter()
            .filter(|(_, t)| *t >= folded.window_start)
            .map(|(id, t)| (t, id.to_string()))
            .collect();
        entries.sort();
        folded.remember(entries);
        folded
    }

    /// Takes versions (oldest first) into `seen`, keeping the newest `MAX_REMEMBERED`.
    fn remember(&mut self, entries: Vec<(DateTime<Utc>, String)>) {
        let skip = entries.len().saturating_sub(MAX_REMEMBERED);
        for (t, id) in entries.into_iter().skip(skip) {
            self.by_id.insert(id.clone(), t);
            self.seen.push_back((t, id));
        }
    }

    /// Reads our state, or Stitch's (`{"updated": "...+00:00", "offset": {...}}`); starts at
    /// `start_date` when there is none.
    pub fn from_state(value: Option<&Value>, start_date: DateTime<Utc>) -> Result<Bookmark> {
        match value {
            None => Ok(Bookmark::starting_at(start_date)),
            Some(value) => Bookmark::parse(value, "bookmarks.issues"),
        }
    }

    /// Reads one bookmark; `at` names where it sits in the state, for error messages.
    pub fn parse(value: &Value, at: &str) -> Result<Bookmark> {
        let instant = |key: &str| -> Result<Option<DateTime<Utc>>> {
            match value.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => parse_in_range(s).map(Some).map_err(|problem| {
                    Error::State(format!(
                        "{at}.{key} {problem}; remove bookmarks.issues to start from start_date"
                    ))
                }),
                Some(other) => Err(Error::State(format!(
                    "{at}.{key} must be a timestamp string, not {other}"
                ))),
            }
        };
        let updated = instant("updated")?.ok_or_else(|| {
            Error::State(format!(
                "{at} has no `updated` timestamp; remove bookmarks.issues to start from start_date"
            ))
        })?;
        let mut bookmark = Bookmark::starting_at(updated);
        bookmark.window_start = instant("window_start")?.unwrap_or(updated).min(updated);
        bookmark.read_from = bookmark.window_start;
        if let Some(seen) = value.get("seen").and_then(Value::as_object) {
            let mut entries: Vec<(DateTime<Utc>, String)> = seen
                .iter()
                .filter_map(|(id, t)| Some((parse_in_range(t.as_str()?).ok()?, id.clone())))
                // Versions before the window are kept: a partition remembers them (`fold`).
                .filter(|(t, _)| *t <= updated)
                .collect();
            entries.sort();
            bookmark.remember(entries);
        }
        Ok(bookmark)
    }

    pub fn to_value(&self) -> Value {
        let seen: Map<String, Value> = self
            .seen
            .iter()
            .filter(|(t, id)| self.by_id.get(id) == Some(t))
            .map(|(t, id)| (id.clone(), json!(format_utc(*t))))
            .collect();
        json!({
            "updated": format_utc(self.updated),
            "window_start": format_utc(self.window_start),
            "seen": seen,
        })
    }

    /// Whether this version of the issue was already written.
    pub fn already_written(&self, id: &str, updated: DateTime<Utc>) -> bool {
        updated < self.window_start || self.by_id.get(id) == Some(&updated)
    }

    /// Whether a version that came back out of `updated` order (after a newer one on its page)
    /// lies behind the window though this run's search began before it, with no version of the
    /// issue as new written: a search index catching up by more than the look-back. It was not
    /// written: it is to be written, without moving the bookmark (which already claims more).
    pub fn arrived_late(&self, id: &str, updated: DateTime<Utc>) -> bool {
        self.read_from <= updated
            && updated < self.window_start
            && self.by_id.get(id).is_none_or(|t| *t < updated)
    }

    /// Notes a written issue version; the window trails the newest written by `lookback`. Only
    /// versions this run wrote move it: a search read in `updated` order has read everything
    /// before them, but a bookmark that re-reads from further back than its `updated` (folded
    /// from partitions, widened, read with a shorter look-back) has not yet read what lies
    /// between its window and its `updated`, which `seen` says was not written.
    pub fn record(&mut self, id: &str, updated: DateTime<Utc>, lookback: Duration) {
        self.updated = self.updated.max(updated);
        let at = self.seen.partition_point(|(t, _)| *t <= updated);
        self.seen.insert(at, (updated, id.to_string()));
        self.by_id.insert(id.to_string(), updated);
        // A version dated after the search began (imported with dates in a zone east of Jira's,
        // edited on a node whose clock runs ahead) says nothing of the edits stamped before its
        // time that are still to come: the window claims no more than the search could read.
        let claimed = self.began.map_or(updated, |began| updated.min(began));
        self.window_start = self.window_start.max(claimed - lookback);
        let keep_from = self.remember_from.unwrap_or(self.window_start);
        while let Some((t, _)) = self.seen.front() {
            let outside = *t < self.window_start.min(keep_from);
            if !outside && self.seen.len() <= MAX_REMEMBERED {
                break;
            }
            if !outside && !self.overflowed {
                self.overflowed = true;
                tracing::warn!(
                    "more than {MAX_REMEMBERED} issue versions inside the look-back window; the oldest \
                     may be written again on the next run"
                );
            }
            if let Some((t, id)) = self.seen.pop_front()
                && self.by_id.get(&id) == Some(&t)
            {
                self.by_id.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::parse_jira;

    fn utc(s: &str) -> DateTime<Utc> {
        parse_jira(s).unwrap()
    }

    #[test]
    fn reads_stitchs_state() {
        let stitch = Bookmark::from_state(
            Some(&json!({"updated": "2024-05-01T10:00:00+00:00", "offset": {"page_num": null}})),
            utc("2020-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(stitch, Bookmark::starting_at(utc("2024-05-01T10:00:00Z")));
        let bad = Bookmark::from_state(
            Some(&json!({"updated": "yesterday"})),
            utc("2020-01-01T00:00:00Z"),
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("bookmarks.issues.updated")
        );
        assert!(
            Bookmark::from_state(Some(&json!({"updated": 5})), utc("2020-01-01T00:00:00Z"))
                .is_err()
        );
    }

    #[test]
    fn round_trips_through_state() {
        let mut b = Bookmark::starting_at(utc("2024-05-01T10:00:00Z"));
        b.record("1", utc("2024-05-01T10:01:00Z"), Duration::minutes(5));
        b.record("2", utc("2024-05-01T10:02:00Z"), Duration::minutes(5));
        let value = b.to_value();
        assert_eq!(
            value["seen"],
            json!({"1": "2024-05-01T10:01:00.000Z", "2": "2024-05-01T10:02:00.000Z"})
        );
        assert_eq!(
            Bookmark::from_state(Some(&value), utc("2020-01-01T00:00:00Z")).unwrap(),
            b
        );
    }

    #[test]
    fn without_lookback_only_ties_at_the_bookmark_are_remembered() {
        let mut b = Bookmark::starting_at(utc("2024-05-01T10:00:00Z"));
        for (id, t) in [
            ("1", "2024-05-01T11:00:00Z"),
            ("2", "2024-05-01T11:00:00.500Z"),
            ("3", "2024-05-01T11:00:00.500Z"),
        ] {
            b.record(id, utc(t), Duration::zero());
        }
        assert_eq!(b.window_start, utc("2024-05-01T11:00:00.500Z"));
        assert_eq!(
            b.to_value()["seen"],
            json!({"2": "2024-05-01T11:00:00.500Z", "3": "2024-05-01T11:00:00.500Z"})
        );
        assert!(b.already_written("1", utc("2024-05-01T11:00:00Z")));
        assert!(b.already_written("2", utc("2024-05-01T11:00:00.500Z")));
        assert!(
            !b.already_written("4", utc("2024-05-01T11:00:00.500Z")),
            "a tie not yet written"
        );
        assert!(
            !b.already_written("2", utc("2024-05-01T11:00:01Z")),
            "a newer version"
        );
    }

    #[test]
    fn a_late_issue_inside_the_window_is_written_once() {
        let lookback = Duration::minutes(5);
        let mut b = Bookmark::starting_at(utc("2024-05-01T10:00:00Z"));
        b.record("1", utc("2024-05-01T10:10:00Z"), lookback);
        b.record("3", utc("2024-05-01T10:12:00Z"), lookback);
        assert_eq!(b.window_start, utc("2024-05-01T10:07:00Z"));
        // Issue 2, updated at 10:11, shows up in search only after 3 was read.
        assert!(!b.already_written("2", utc("2024-05-01T10:11:00Z")));
        b.record("2", utc("2024-05-01T10:11:00Z"), lookback);
        assert!(b.already_written("2", utc("2024-05-01T10:11:00Z")));
        assert_eq!(b.updated, utc("2024-05-01T10:12:00Z"));
        assert!(
            b.already_written("0", utc("2024-05-01T10:06:59Z")),
            "before the window: written"
        );
    }

    #[test]
    fn a_version_dated_after_the_search_began_moves_the_window_no_further() {
        let lookback = Duration::minutes(5);
        let began = utc("2024-05-01T10:00:00Z");
        let mut b = Bookmark::starting_at(utc("2024-05-01T09:00:00Z")).began_at(began);
        b.record("1", utc("2024-05-01T12:00:00Z"), lookback);
        assert_eq!(b.updated, utc("2024-05-01T12:00:00Z"));
        assert_eq!(b.window_start, utc("2024-05-01T09:55:00Z"));
        assert!(b.already_written("1", utc("2024-05-01T12:00:00Z")));
        assert!(!b.already_written("2", utc("2024-05-01T10:30:00Z")));
    }

    #[test]
    fn partitions_fold_into_one_bookmark_that_claims_no_more_than_they_read() {
        let lookback = Duration::minutes(5);
        let origin = Bookmark::starting_at(utc("2024-05-01T00:00:00Z"));
        let started = utc("2024-05-01T10:18:00Z");
        let mut a = origin.clone().remember_from(started - lookback);
        let mut b = origin.clone().remember_from(started - lookback);
        a.record("1", utc("2024-05-01T10:10:00Z"), lookback);
        a.record("2", utc("2024-05-01T10:14:00Z"), lookback);
        b.record("3", utc("2024-05-01T10:16:00Z"), lookback);
        // Edited while the run went on: read by b after a had finished.
        b.record("4", utc("2024-05-01T10:30:00Z"), lookback);
        let folded = Bookmark::fold(&origin, [&a, &b], started, lookback);
        assert_eq!(folded.updated, utc("2024-05-01T10:30:00Z"));
        // Partition a stopped reading before 10:30: only what came before its start is claimed.
        assert_eq!(folded.window_start, utc("2024-05-01T10:13:00Z"));
        for (id, t) in [("2", "10:14"), ("3", "10:16"), ("4", "10:30")] {
            let t = utc(&format!("2024-05-01T{t}:00Z"));
            assert!(folded.already_written(id, t), "{id} is in seen");
        }
        assert!(!folded.already_written("5", utc("2024-05-01T10:20:00Z")));
        assert!(folded.already_written("1", utc("2024-05-01T10:10:00Z")));

        // A site whose newest issue is older than the run: the window trails that issue.
        let old = Bookmark::fold(&origin, [&a], utc("2024-06-01T00:00:00Z"), lookback);
        assert_eq!(old.window_start, utc("2024-05-01T10:09:00Z"));
        assert!(!old.already_written("late", utc("2024-05-01T10:12:00Z")));
    }

    #[test]
    fn an_issue_behind_the_window_is_late_only_when_this_run_read_past_it() {
        let lookback = Duration::minutes(5);
        let mut b = Bookmark::from_state(
            Some(&json!({"updated": "2024-05-01T10:00:00Z"})),
            utc("2020-01-01T00:00:00Z"),
        )
        .unwrap();
        b.record("1", utc("2024-05-01T10:10:00Z"), lookback);
        b.record("2", utc("2024-05-01T11:00:00Z"), lookback);
        // Behind the window, after the run began: never written.
        assert!(b.arrived_late("3", utc("2024-05-01T10:20:00Z")));
        assert!(b.already_written("3", utc("2024-05-01T10:20:00Z")));
        // Before the run began: an earlier run wrote it.
        assert!(!b.arrived_late("4", utc("2024-05-01T09:59:00Z")));
        // A version as new or newer was written: nothing is late.
        assert!(!b.arrived_late("2", utc("2024-05-01T10:20:00Z")));
        // Inside the window: the ordinary rules.
        assert!(!b.arrived_late("5", utc("2024-05-01T10:58:00Z")));
        // Years a state cannot hold are refused, with the range.
        let e = Bookmark::parse(
            &json!({"updated": "+10000-01-01T00:00:00.000Z"}),
            "bookmarks.issues",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("outside the years 0001 to 9999"), "{e}");
    }

    #[test]
    fn memory_is_bounded_and_forgetting_never_skips() {
        let mut b = Bookmark::starting_at(utc("2024-05-01T00:00:00Z"));
        let t = utc("2024-05-01T10:00:00Z");
        for i in 0..(MAX_REMEMBERED + 10) {
            b.record(&i.to_string(), t, Duration::minutes(5));
        }
        assert_eq!(
            b.to_value()["seen"].as_object().unwrap().len(),
            MAX_REMEMBERED
        );
        // A forgotten version is written again rather than skipped, and the window stays put, so
        // a late edit inside it is still caught.
        assert!(!b.already_written("0", t));
        assert!(b.already_written("1009", t));
        assert_eq!(b.window_start, t - Duration::minutes(5));
        assert!(!b.already_written("late", t - Duration::minutes(2)));
    }
}
