//! Time: Jira's timestamp and date formats, the fixed window the history is generated in, and
//! JQL date literals, which Jira reads in the requesting user's time zone at minute granularity.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Start of the generated history, 2024-04-01T00:00:00Z, in epoch milliseconds. Issues are
/// created and updated between this and [`HISTORY_END_MS`]; the window is fixed (not relative
/// to now) so that a seed always gives byte-identical responses.
pub const HISTORY_START_MS: i64 = 1_711_929_600_000;
/// End of the generated history, 2025-10-01T00:00:00Z, in epoch milliseconds. Only issues
/// touched or added at run time are updated later than this.
pub const HISTORY_END_MS: i64 = 1_759_276_800_000;

/// How a timestamp's offset is written: Jira renders `+0000`, a fixed offset, or a zone's.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Offset {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Zone(Tz),
}

/// Jira's timestamp format: `2024-01-31T13:05:00.000+0000`.
const JIRA_TIMESTAMP: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Formats epoch milliseconds as Jira does, in the given offset.
pub(crate) fn timestamp(ms: i64, offset: Offset) -> String {
    let at = utc(ms);
    match offset {
        Offset::Utc => at.format(JIRA_TIMESTAMP).to_string(),
        Offset::Fixed(secs) => {
            let fixed = FixedOffset::east_opt(secs).unwrap_or(FixedOffset::east_opt(0).unwrap());
            at.with_timezone(&fixed).format(JIRA_TIMESTAMP).to_string()
        }
        Offset::Zone(tz) => at.with_timezone(&tz).format(JIRA_TIMESTAMP).to_string(),
    }
}

/// A calendar date (`2024-02-23`), as date fields (due date, date pickers) carry it.
pub(crate) fn date(ms: i64) -> String {
    utc(ms).format("%Y-%m-%d").to_string()
}

/// The same date in the user's date format (`23/Feb/24`), as a project's version list repeats
/// it (`userReleaseDate`).
pub(crate) fn user_date(ms: i64) -> String {
    utc(ms).format("%-d/%b/%y").to_string()
}

/// Parses a timestamp in Jira's format back into epoch milliseconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    DateTime::parse_from_str(text, JIRA_TIMESTAMP)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Parses the IANA zone name; unknown names fall back to UTC, as Jira does for a bad profile.
pub(crate) fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// Reads a JQL date literal (`yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd`, `yyyy-MM-dd`)
/// as a wall-clock time in `tz` and returns epoch milliseconds.
pub(crate) fn parse_jql_date(text: &str, tz: Tz) -> Option<i64> {
    let text = text.trim();
    let naive = ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            ["%Y/%m/%d", "%Y-%m-%d"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    local_to_ms(naive, tz)
}

/// Wall-clock time in a zone to an instant: the earlier instant when the clock repeats (DST
/// ends), and the time one hour later when the clock skips it (DST starts).
fn local_to_ms(naive: NaiveDateTime, tz: Tz) -> Option<i64> {
    let local = tz.from_local_datetime(&naive).earliest().or_else(|| {
        tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
    })?;
    Some(local.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_window_constants_match_their_dates() {
        assert_eq!(
            timestamp(HISTORY_START_MS, Offset::Utc),
            "2024-04-01T00:00:00.000+0000"
        );
        assert_eq!(
            timestamp(HISTORY_END_MS, Offset::Utc),
            "2025-10-01T00:00:00.000+0000"
        );
    }

    #[test]
    fn timestamps_use_jira_format_with_offsets() {
        let ms = parse_timestamp("2024-01-31T13:05:00.123+0000").unwrap();
        assert_eq!(
            timestamp(ms, Offset::Fixed(-8 * 3600)),
            "2024-01-31T05:05:00.123-0800"
        );
        let la = zone("America/Los_Angeles");
        assert_eq!(
            timestamp(ms, Offset::Zone(la)),
            "2024-01-31T05:05:00.123-0800"
        );
        assert_eq!(date(ms), "2024-01-31");
    }

    #[test]
    fn jql_dates_are_read_in_the_user_zone() {
        let la = zone("America/Los_Angeles");
        let kolkata = zone("Asia/Kolkata");
        let winter = parse_jql_date("2024/01/31 13:05", la).unwrap();
        assert_eq!(
            timestamp(winter, Offset::Utc),
            "2024-01-31T21:05:00.000+0000"
        );
        let summer = parse_jql_date("2024-07-01 09:30", la).unwrap();
        assert_eq!(
            timestamp(summer, Offset::Utc),
            "2024-07-01T16:30:00.000+0000"
        );
        let day = parse_jql_date("2024-07-01", kolkata).unwrap();
        assert_eq!(timestamp(day, Offset::Utc), "2024-06-30T18:30:00.000+0000");
        assert!(parse_jql_date("31/01/2024", la).is_none());
        assert!(parse_jql_date("2024-01-31T13:05", la).is_none());
    }

    #[test]
    fn dst_gaps_and_overlaps_resolve_like_jira() {
        let la = zone("America/Los_Angeles");
        // 2024-03-10 02:30 does not exist in Los Angeles: read as 03:30 PDT.
        let gap = parse_jql_date("2024/03/10 02:30", la).unwrap();
        assert_eq!(timestamp(gap, Offset::Utc), "2024-03-10T10:30:00.000+0000");
        // 2024-11-03 01:30 happens twice: the first (PDT) is taken.
        let overlap = parse_jql_date("2024/11/03 01:30", la).unwrap();
        assert_eq!(
            timestamp(overlap, Offset::Utc),
            "2024-11-03T08:30:00.000+0000"
        );
    }
}
