//! Jira's timestamps (`2024-01-31T13:05:00.000+0000`, `-0800`, `-07:00`) and the RFC 3339 UTC form
//! (`2024-01-31T21:05:00.000Z`) that targets need, in records built as values or passed through
//! as JSON text.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use memchr::{memchr2, memchr3};
use serde_json::Value;

use crate::raw::{InBase, StringValue, push_json_string, span_in, string_end};

/// Parses any timestamp Jira sends: RFC 3339, or its own offset without a colon.
pub fn parse_jira(s: &str) -> Option<DateTime<Utc>> {
    parse_millis_offset(s).or_else(|| {
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| DateTime::parse_from_rfc3339(s))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The years a timestamp in the config or a state may have: RFC 3339's four digits, less year 0,
/// so that a bookmark minus the look-back window is still one (and is written back as one).
pub const YEARS: &str = "years 0001 to 9999";

/// Whether `t` may sit in a config or a state: RFC 3339 writes it, and the tap reads it back.
pub fn in_range(t: DateTime<Utc>) -> bool {
    (1..=9999).contains(&t.year())
}

/// Whether a timestamp read from Jira may move a bookmark: one in the state's range, and not in
/// the future beyond clock skew (a bookmark there would skip every edit until then).
pub fn bookmarkable(t: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    in_range(t)
        && now
            .checked_add_signed(chrono::Duration::days(1))
            .is_none_or(|later| t <= later)
}

/// A config's or state's timestamp, or what is wrong with it (to follow the text in a message).
pub fn parse_in_range(s: &str) -> Result<DateTime<Utc>, String> {
    match parse_jira(s) {
        Some(t) if in_range(t) => Ok(t),
        Some(_) => Err(format!(
            "`{s}` is outside the {YEARS} that tap-jira accepts"
        )),
        None if beyond_four_digit_years(s) => Err(format!(
            "`{s}` is outside the {YEARS} that tap-jira accepts"
        )),
        None => Err(format!("`{s}` is not an RFC 3339 timestamp")),
    }
}

/// `+10000-01-01…`, `-0044-03-15…`: a year RFC 3339 cannot write, which deserves the range in
/// its message rather than "not a date".
pub fn beyond_four_digit_years(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let year = unsigned.split('-').next().unwrap_or("");
    let signed = unsigned.len() < s.len();
    !year.is_empty() && year.bytes().all(|c| c.is_ascii_digit()) && (signed || year.len() > 4)
}

/// Where `YYYY-MM-DDTHH:MM:SS.mmm` has its separators.
const PUNCTUATION: [(usize, u8); 6] = [
    (4, b'-'),
    (7, b'-'),
    (10, b'T'),
    (13, b':'),
    (16, b':'),
    (19, b'.'),
];

/// Jira's own shape, `YYYY-MM-DDTHH:MM:SS.mmm±hhmm` (or `±hh:mm`), read without chrono's format
/// interpreter: nearly every timestamp of a sync has it. Anything else is left to `parse_jira`.
fn parse_millis_offset(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let offset = match b.len() {
        28 => [b.get(24)?, b.get(25)?, b.get(26)?, b.get(27)?],
        29 if b.get(26) == Some(&b':') => [b.get(24)?, b.get(25)?, b.get(27)?, b.get(28)?],
        _ => return None,
    };
    if PUNCTUATION.iter().any(|&(at, c)| b[at] != c) {
        return None;
    }
    let digits = |from: usize, n: usize| -> Option<u32> {
        b.get(from..from + n)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let sign: i64 = match b[23] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digit = |c: &u8| c.is_ascii_digit().then(|| i64::from(c - b'0'));
    let (oh, om) = (
        digit(offset[0])? * 10 + digit(offset[1])?,
        digit(offset[2])? * 10 + digit(offset[3])?,
    );
    let (second, milli) = (digits(17, 2)?, digits(20, 3)?);
    // Leap seconds and odd offsets: chrono's rules decide.
    if oh > 23 || om > 59 || second > 59 {
        return None;
    }
    let local = NaiveDate::from_ymd_opt(digits(0, 4)? as i32, digits(5, 2)?, digits(8, 2)?)?
        .and_hms_milli_opt(digits(11, 2)?, digits(14, 2)?, second, milli)?;
    let utc = local.checked_sub_signed(chrono::Duration::seconds(sign * (oh * 3600 + om * 60)))?;
    Some(utc.and_utc())
}

/// `t` as Jira writes and reads its own timestamps (`2024-01-31T13:05:42.000+0000`), for query
/// parameters such as the audit log's `from`.
pub fn format_jira(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Whether `t` can be written in RFC 3339 (four-digit years): a "never" date of 9999-12-31 west
/// of UTC is in year 10000 there, and keeps its own offset (see [`in_its_offset`]) rather than
/// being written in a form no date-time reader takes.
fn writable(t: &DateTime<Utc>) -> bool {
    (0..=9999).contains(&t.year())
}

/// A date-time of Jira's that cannot be written in UTC, in its own offset as RFC 3339 writes it:
/// Jira's offset without a colon (`-0500`) takes one (`-05:00`). `None` when it has one already.
fn in_its_offset(s: &str) -> Option<String> {
    let cut = s.len().checked_sub(2)?;
    let offset = s.as_bytes().get(cut.checked_sub(3)?..)?;
    if !matches!(offset[0], b'+' | b'-') || !offset[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(format!("{}:{}", s.get(..cut)?, s.get(cut..)?))
}

/// The one format timestamps leave the tap in.
pub fn format_utc(t: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(24);
    push_utc(&mut out, t);
    out
}

/// `format_utc`, appended to `out`: a record's date-times are written in place.
pub fn push_utc(text: &mut String, t: DateTime<Utc>) {
    let year = t.year();
    let (second, nanos) = (t.second(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        text.push_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true));
        return;
    }
    if nanos % 1_000_000 != 0 {
        // Finer than milliseconds: as many digits as it takes, not cut to three.
        text.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        return;
    }
    // `YYYY-MM-DDTHH:MM:SS.mmmZ` written by hand: chrono's formatter is a fifth of a sync's time.
    let mut out = [0u8; 24];
    let mut put = |at: usize, n: u32, width: usize| {
        let mut n = n;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, second, 2);
    put(20, nanos / 1_000_000, 3);
    for (at, c) in PUNCTUATION {
        out[at] = c;
    }
    out[23] = b'Z';
    // ASCII throughout; pushed char by char, the string grew three times.
    text.push_str(std::str::from_utf8(&out).unwrap_or_default());
}

/// Rewrites, anywhere in a record, every date-time string that carries an offset other than `Z`.
/// Strings that merely look like one but do not parse are left alone.
pub fn normalize(value: &mut Value) {
    match value {
        Value::String(s) => {
            if has_offset_to_normalize(s)
                && let Some(t) = parse_jira(s)
            {
                if writable(&t) {
                    *s = format_utc(t);
                } else if let Some(kept) = in_its_offset(s) {
                    *s = kept;
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

/// `normalize` on JSON text: every string value (not key) that is a date-time with an offset
/// other than `Z` is rewritten. Line breaks outside strings are dropped on the way, so the text
/// fits on one Singer line. The result is appended to `out`, so a record is copied once.
pub fn normalize_json(text: &str, out: &mut String) {
    let b = text.as_bytes();
    // Up to where `text` has been copied to `out`.
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = b
        .get(at..)
        .and_then(|rest| memchr3(b'"', b'\n', b'\r', rest))
    {
        let start = at + found;
        if b[start] != b'"' {
            out.push_str(&text[copied..start]);
            copied = start + 1;
            at = start + 1;
            continue;
        }
        let Some((end, escaped)) = string_end(b, start + 1) else {
            break;
        };
        at = end + 1;
        let is_key = b[at..]
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|&c| c == b':');
        if is_key {
            continue;
        }
        if let Some(utc) = UtcText::of(&text[start..=end], escaped) {
            out.push_str(&text[copied..start]);
            utc.push_quoted(&text[start..=end], out);
            copied = end + 1;
        }
    }
    out.push_str(&text[copied..]);
}

/// The date-times to rewrite in one JSON text, found while the text was taken apart
/// (`RawObject::parse_opening_seeing`): its parts are then written with `normalize_json`'s
/// result without a second scan.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DateSpans {
    /// The string values that may be date-times to rewrite, in text order.
    spans: Vec<StringValue>,
    /// Line breaks between tokens, which `normalize_json` drops: a text with any is scanned.
    has_line_breaks: bool,
}

impl DateSpans {
    pub fn new(text: &str) -> DateSpans {
        DateSpans {
            spans: Vec::new(),
            // A valid JSON text has no raw line break inside a string.
            has_line_breaks: memchr2(b'\n', b'\r', text.as_bytes()).is_some(),
        }
    }

    /// The spans of `text` among its string values `strings` (in text order): counted before
    /// they are kept, so the list is allocated once, where pushing them one by one grew it
    /// several times for each record.
    pub fn of(text: &str, strings: &[StringValue]) -> DateSpans {
        let content = |s: &StringValue| text.get(s.open + 1..s.close).unwrap_or("");
        let is_candidate = |s: &&StringValue| may_be_date_time(content(s), s.escaped);
        let mut dates = DateSpans::new(text);
        dates.spans = Vec::with_capacity(strings.iter().filter(is_candidate).count());
        dates
            .spans
            .extend(strings.iter().filter(is_candidate).copied());
        dates
    }

    /// Takes note of a string value of `text` (the text this was made for).
    pub fn see(&mut self, text: &str, string: StringValue) {
        let content = text.get(string.open + 1..string.close).unwrap_or("");
        if may_be_date_time(content, string.escaped) {
            self.spans.push(string);
        }
    }

    /// How the parts of `base` (the text the string values were seen in) are written: with their
    /// date-times rewritten, and entries side by side in it written together.
    pub fn rewriting<'t>(&'t self, base: &'t str) -> InBase<'t, impl Fn(&str, &mut String) + 't> {
        InBase {
            base,
            write: move |part: &str, out: &mut String| self.normalize_into(base, part, out),
        }
    }

    /// `normalize_json(part, out)` for `part`, a value within `base` (the text the string values
    /// were seen in); a part from elsewhere is scanned.
    pub fn normalize_into(&self, base: &str, part: &str, out: &mut String) {
        let Some((start, end)) = span_in(base, part).filter(|_| !self.has_line_breaks) else {
            return normalize_json(part, out);
        };
        let mut copied = start;
        let first = self.spans.partition_point(|s| s.open < start);
        for s in self.spans[first..].iter().take_while(|s| s.close < end) {
            let token = base.get(s.open..=s.close).unwrap_or_default();
            if let Some(utc) = UtcText::of(token, s.escaped) {
                out.push_str(&base[copied..s.open]);
                utc.push_quoted(token, out);
                copied = s.close + 1;
            }
        }
        out.push_str(&base[copied..end]);
    }
}

/// A date-time to write in place of a JSON string token, in UTC.
enum UtcText {
    /// Of Jira's usual shape (`jira_shape_in_utc`).
    Shaped(UtcFields),
    Parsed(DateTime<Utc>),
    /// Beyond year 9999 in UTC: in its own offset (`in_its_offset`).
    Kept(String),
}

impl UtcText {
    /// What a JSON string token (quotes included) becomes, when it is a date-time to normalise.
    fn of(token: &str, escaped: bool) -> Option<UtcText> {
        let content = token.get(1..token.len().saturating_sub(1))?;
        if !escaped && let Some(fields) = jira_shape_in_utc(content.as_bytes()) {
            return Some(UtcText::Shaped(fields));
        }
        let s = offset_date_time_text(token, escaped)?;
        let t = parse_jira(&s)?;
        match writable(&t) {
            true => Some(UtcText::Parsed(t)),
            false => in_its_offset(&s).map(UtcText::Kept),
        }
    }

    /// Appends the date-time as a JSON string; `token` is the one `of` was given.
    fn push_quoted(&self, token: &str, out: &mut String) {
        match self {
            UtcText::Shaped(fields) => {
                let content = token.as_bytes().get(1..).unwrap_or_default();
                debug_assert!(content.get(..23).is_some_and(<[u8]>::is_ascii));
                // SAFETY: `push_quoted` appends quotes, digits, `Z` and the first 23 bytes of
                // `content`, the token `of` read, whose bytes `jira_shape_in_utc` checked are
                // digits or punctuation: ASCII, so UTF-8 (and `str::from_utf8` was a sixth of
                // the cost of a date-time).
                fields.push_quoted(content, unsafe { out.as_mut_vec() });
            }
            UtcText::Parsed(t) => {
                out.push('"');
                push_utc(out, *t);
                out.push('"');
            }
            UtcText::Kept(text) => push_json_string(out, text),
        }
    }
}

/// What moving a date-time of Jira's usual shape to UTC can change; its seconds and
/// milliseconds stay as they came.
#[derive(Debug, Clone, Copy)]
struct UtcFields {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
}

impl UtcFields {
    /// Appends `"YYYY-MM-DDTHH:MM:SS.mmmZ"`, the seconds and milliseconds those of `content`
    /// (the date-time as Jira wrote it, which `jira_shape_in_utc` read). Written where it goes,
    /// digit by digit: built apart first and then copied, it was read back wider than it had
    /// been written, a store-forwarding stall per date-time.
    fn push_quoted(self, content: &[u8], out: &mut Vec<u8>) {
        let Some(as_written) = content.get(..23) else {
            return;
        };
        let at = out.len();
        out.push(b'"');
        out.extend_from_slice(as_written);
        out.extend_from_slice(b"Z\"");
        let Some(text) = out.get_mut(at + 1..at + 24) else {
            return;
        };
        let mut two = |from: usize, n: u8| {
            text[from] = b'0' + n / 10;
            text[from + 1] = b'0' + n % 10;
        };
        two(0, (self.year / 100) as u8);
        two(2, (self.year % 100) as u8);
        two(5, self.month);
        two(8, self.day);
        two(11, self.hour);
        two(14, self.minute);
    }
}

/// Jira's usual shape, `YYYY-MM-DDTHH:MM:SS.mmm±hhmm` (or `±hh:mm`), in UTC, by integer
/// arithmetic alone: nearly every date-time of a sync has this shape, and chrono's calendar
/// made each cost a thousand instructions. `None` for anything else (another shape, a value out
/// of range, a year beyond 0000–9999 once in UTC), which `UtcText::of` decides.
fn jira_shape_in_utc(b: &[u8]) -> Option<UtcFields> {
    let offset = match b.len() {
        28 => b.get(24..28)?,
        29 if b.get(26) == Some(&b':') => &[*b.get(24)?, *b.get(25)?, *b.get(27)?, *b.get(28)?],
        _ => return None,
    };
    if PUNCTUATION.iter().any(|&(at, c)| b[at] != c) {
        return None;
    }
    let number = |digits: &[u8]| -> Option<i32> {
        digits.iter().try_fold(0i32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    let sign = match b[23] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (offset_hours, offset_minutes) = (number(&offset[..2])?, number(&offset[2..])?);
    let (mut year, mut month, mut day) = (number(&b[0..4])?, number(&b[5..7])?, number(&b[8..10])?);
    let (hour, minute, second) = (
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
    );
    number(&b[20..23])?;
    if offset_hours > 23
        || offset_minutes > 59
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // An offset is less than a day, so UTC is at most a day either side.
    let mut minutes = hour * 60 + minute - sign * (offset_hours * 60 + offset_minutes);
    if minutes < 0 {
        minutes += 24 * 60;
        day -= 1;
        if day == 0 {
            month -= 1;
            if month == 0 {
                (year, month) = (year - 1, 12);
            }
            day = days_in_month(year, month);
        }
    } else if minutes >= 24 * 60 {
        minutes -= 24 * 60;
        day += 1;
        if day > days_in_month(year, month) {
            (month, day) = (month + 1, 1);
            if month > 12 {
                (year, month) = (year + 1, 1);
            }
        }
    }
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(UtcFields {
        year: u16::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
        hour: u8::try_from(minutes / 60).ok()?,
        minute: u8::try_from(minutes % 60).ok()?,
    })
}

/// Days in `month` (1–12) of the proleptic Gregorian `year`.
fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The text of a JSON string token (quotes included) that may be a date-time with an offset to
/// normalise, decoded when it has escapes.
fn offset_date_time_text(token: &str, escaped: bool) -> Option<Cow<'_, str>> {
    let content = token.get(1..token.len().saturating_sub(1))?;
    if !may_be_date_time(content, escaped) {
        return None;
    }
    let s = match escaped {
        true => Cow::Owned(serde_json::from_str::<String>(token).ok()?),
        false => Cow::Borrowed(content),
    };
    has_offset_to_normalize(&s).then_some(s)
}

/// Whether a string's `content` (as written, between its quotes) may hold a date-time to
/// normalise: one with escapes is decoded to tell, unless it is too long to be one even then
/// (an escape is at most six bytes for a character).
fn may_be_date_time(content: &str, escaped: bool) -> bool {
    if escaped {
        (24..=6 * MAX_DATE_TIME).contains(&content.len())
    } else {
        has_offset_to_normalize(content)
    }
}

/// The longest date-time looked at.
const MAX_DATE_TIME: usize = 40;

/// A cheap shape check before parsing: `YYYY-MM-DDTHH:MM:SS…±hhmm` or `…±hh:mm`.
fn has_offset_to_normalize(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 24 || b.len() > MAX_DATE_TIME {
        return false;
    }
    let shape = b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let tail = &b[b.len() - 6..];
    let offset =
        matches!(tail[1], b'+' | b'-') || (matches!(tail[0], b'+' | b'-') && tail[3] == b':');
    // chrono's parser passes over spaces that no date-time holds (`T 3:05`, `000 +0000`).
    shape && offset && !b.iter().any(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The date-time a JSON string token (quotes included) holds, when it is one to normalise
    /// to UTC (`UtcText::of` without its fast path).
    fn to_normalize(token: &str, escaped: bool) -> Option<DateTime<Utc>> {
        parse_jira(&offset_date_time_text(token, escaped)?).filter(writable)
    }
    use serde_json::json;

    #[test]
    fn date_times_found_while_taking_text_apart_are_rewritten_as_a_scan_would() {
        let text = r#"{"a":"2024-01-31T13:05:00.000+0000","2024-01-31T13:05:00.000+0000":1,"b":[{"c":"2024-01-31T13:05:00.123-0800","2015-06-18T09:00:00.000-07:00":"x"},"2024-01-31T13:05:00.000Z"],"d":"2024-01-31T13:05:00.000\u002b0100","e":"not a date, though long enough","f":"2024-01-31T13:05:00.000+0000"}"#;
        let mut dates = DateSpans::new(text);
        let object =
            crate::raw::RawObject::parse_opening_seeing(text, &[], &mut |s| dates.see(text, s))
                .unwrap();
        let parts = object.entries().filter_map(|(_, v)| v.text());
        for part in std::iter::once(text)
            .chain(parts)
            .chain(["\"2024-01-31T13:05:00.000+0000\""])
        {
            let (mut scanned, mut found) = (String::new(), String::new());
            normalize_json(part, &mut scanned);
            dates.normalize_into(text, part, &mut found);
            assert_eq!(found, scanned, "{part}");
        }
        let mut whole = String::new();
        dates.normalize_into(text, text, &mut whole);
        assert_eq!(
            whole,
            r#"{"a":"2024-01-31T13:05:00.000Z","2024-01-31T13:05:00.000+0000":1,"b":[{"c":"2024-01-31T21:05:00.123Z","2015-06-18T09:00:00.000-07:00":"x"},"2024-01-31T13:05:00.000Z"],"d":"2024-01-31T12:05:00.000Z","e":"not a date, though long enough","f":"2024-01-31T13:05:00.000Z"}"#
        );
        assert_eq!(
            dates.spans.len(),
            4,
            "keys and what is no date-time are not kept"
        );
    }

    #[test]
    fn jira_offsets_become_utc_z() {
        let mut v = json!({
            "a": "2024-01-31T13:05:00.000+0000",
            "b": ["2024-01-31T13:05:00.123-0800", "2015-06-18T09:00:00.000-07:00"],
            "c": "2024-01-31T13:05:00.000Z",
            "d": "2024-01-31",
            "e": "not 2024-01-31T13:05:00.000+0000",
            "f": 5
        });
        normalize(&mut v);
        assert_eq!(
            v,
            json!({
                "a": "2024-01-31T13:05:00.000Z",
                "b": ["2024-01-31T21:05:00.123Z", "2015-06-18T16:00:00.000Z"],
                "c": "2024-01-31T13:05:00.000Z",
                "d": "2024-01-31",
                "e": "not 2024-01-31T13:05:00.000+0000",
                "f": 5
            })
        );
    }

    #[test]
    fn json_text_is_normalised_like_values() {
        let text = r#"{"a":"2024-01-31T13:05:00.000+0000","b":["2024-01-31T13:05:00.123-0800",{"c":"2015-06-18T09:00:00.000-07:00"}],"2024-01-31T13:05:00.000+0000":1,"d":"2024-01-31","e":"x \"2024-01-31T13:05:00.000+0000","f":"2024-01-31T13:05:00.000\u002b0000","g":"2024-13-31T13:05:00.000+0000","h":5}"#;
        let mut value: Value = serde_json::from_str(text).unwrap();
        normalize(&mut value);
        let raw = normalized_text(text);
        assert_eq!(serde_json::from_str::<Value>(&raw).unwrap(), value);
        assert!(
            raw.contains(r#""2024-01-31T13:05:00.000+0000":1"#),
            "keys stay"
        );
        assert!(
            raw.contains(r#""f":"2024-01-31T13:05:00.000Z""#),
            "escaped strings too"
        );
        assert!(
            raw.contains(r#""g":"2024-13-31T13:05:00.000+0000""#),
            "unparsable stays"
        );
    }

    #[test]
    fn json_text_without_changes_stays_and_line_breaks_go() {
        let text = r#"{"a":"2024-01-31T13:05:00.000Z","b":[1,"x\n"]}"#;
        assert_eq!(normalized_text(text), text);
        assert_eq!(normalized_text("{\"a\":\r\n [1,\n2]}"), r#"{"a": [1,2]}"#);
        assert_eq!(
            normalized_text(r#"{"a":"unterminated"#),
            r#"{"a":"unterminated"#
        );
        let mut out = String::from("x");
        normalize_json(r#""2024-01-31T13:05:00.000+0100""#, &mut out);
        assert_eq!(out, r#"x"2024-01-31T12:05:00.000Z""#, "appended");
    }

    fn normalized_text(text: &str) -> String {
        let mut out = String::new();
        normalize_json(text, &mut out);
        out
    }

    #[test]
    fn fast_paths_agree_with_chrono() {
        for s in [
            "2024-01-31T13:05:00.000+0000",
            "2024-01-01T00:30:00.999+0100",
            "2024-12-31T23:59:59.001-1130",
            "2015-06-18T09:00:00.000-07:00",
            "2024-02-29T12:00:00.500+05:30",
        ] {
            let slow = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
                .or_else(|_| DateTime::parse_from_rfc3339(s))
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(parse_millis_offset(s), Some(slow), "{s}");
            assert_eq!(
                format_utc(slow),
                slow.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
        }
        for s in [
            "2023-02-29T12:00:00.000+0000",
            "2024-01-31T13:05:60.000+0000",
            "2024-01-31 13:05:00.000+0000",
        ] {
            assert_eq!(parse_millis_offset(s), None, "{s}");
        }
        // Finer than a millisecond (Jira sends milliseconds): kept, not cut to three digits.
        let t = parse_jira("2024-01-31T13:05:00.123456+0000").unwrap();
        assert_eq!(format_utc(t), "2024-01-31T13:05:00.123456Z");
        // A year RFC 3339 cannot write in UTC keeps its offset, with the colon RFC 3339 asks for.
        for (s, kept) in [
            (
                "9999-12-31T23:00:00.000-0500",
                "9999-12-31T23:00:00.000-05:00",
            ),
            (
                "9999-12-31T23:00:00.000-05:00",
                "9999-12-31T23:00:00.000-05:00",
            ),
        ] {
            let mut value = json!(s);
            normalize(&mut value);
            assert_eq!(value, json!(kept));
            let mut text = String::new();
            normalize_json(&json!({"at": s}).to_string(), &mut text);
            assert_eq!(text, json!({"at": kept}).to_string());
        }
        // Spaces are no date-time's.
        for s in [
            "2024-01-31T 3:05:00.000+0000",
            "2024-01-31T13:05:00.000 +0000",
        ] {
            let mut value = json!(s);
            normalize(&mut value);
            assert_eq!(value, json!(s));
            assert_eq!(to_normalize(&format!("\"{s}\""), false), None, "{s}");
        }
    }

    #[test]
    fn jira_shape_is_put_in_utc_as_chrono_puts_it() {
        let mut written = 0;
        for year in [0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 9999] {
            for month in 0..=13 {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    for (hour, minute, second) in
                        [(0, 0, 0), (23, 59, 59), (12, 60, 0), (24, 0, 0), (0, 0, 60)]
                    {
                        for offset in [
                            "+0000", "-0000", "+2359", "-2359", "+0530", "-07:00", "+14:00",
                            "+2400", "-0060", "+0a00",
                        ] {
                            let s = format!(
                                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.042{offset}"
                            );
                            let slow = to_normalize(&format!("\"{s}\""), false).map(format_utc);
                            let fast = jira_shape_in_utc(s.as_bytes()).map(|fields| {
                                let mut text = Vec::new();
                                fields.push_quoted(s.as_bytes(), &mut text);
                                assert!(text[0] == b'"' && text[25] == b'"', "{s}");
                                String::from_utf8(text[1..25].to_vec()).unwrap()
                            });
                            match (&fast, &slow) {
                                (Some(_), _) => {
                                    assert_eq!(fast, slow, "{s}");
                                    written += 1;
                                }
                                // What is left to chrono: a leap second, a year that UTC moves
                                // out of four digits.
                                (None, Some(slow)) => {
                                    assert!(second == 60 || slow.len() != 24, "{s}: {slow}")
                                }
                                (None, None) => {}
                            }
                        }
                    }
                }
            }
        }
        assert!(written > 5_000, "{written}");
    }

    #[test]
    fn parses_both_offset_styles() {
        let a = parse_jira("2024-01-31T13:05:00.000+0000").unwrap();
        let b = parse_jira("2024-01-31T13:05:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(format_utc(a), "2024-01-31T13:05:00.000Z");
    }
}
