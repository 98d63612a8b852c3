//! A set of issue ids small enough to live in the state. Jira numbers issues from one sequence
//! for the whole site, so a site's ids are long runs broken by deletions; the text keeps each
//! run as the gap from the previous id and, when longer than one, how many ids follow it:
//! `10000.499,2,2` is 10000–10499, 10501 and 10503. A whole site with few deletions is a few
//! bytes; a project filter on a site of interleaved projects costs about two bytes an issue.

use std::fmt::Write;

/// Encodes sorted, distinct ids.
pub fn encode(ids: &[u64]) -> String {
    let mut text = String::new();
    let mut previous = 0;
    let mut at = 0;
    while at < ids.len() {
        let start = ids[at];
        let mut end = at;
        while end + 1 < ids.len() && ids[end + 1] == ids[end] + 1 {
            end += 1;
        }
        if !text.is_empty() {
            text.push(',');
        }
        let _ = write!(text, "{}", start - previous);
        if end > at {
            let _ = write!(text, ".{}", end - at);
        }
        previous = ids[end];
        at = end + 1;
    }
    text
}

/// The most ids a state may hold: far more than the largest Jira site has issues, and a bound
/// on the memory a damaged state can ask for.
const MAX_IDS: u64 = 50_000_000;

/// The ids `text` holds, in order; `None` when it is not what [`encode`] writes, or holds more
/// than [`MAX_IDS`].
pub fn decode(text: &str) -> Option<Vec<u64>> {
    let count = count(text)?;
    let mut ids = Vec::with_capacity(usize::try_from(count).ok()?);
    runs(text, |start, end| ids.extend(start..=end))?;
    Some(ids)
}

/// How many ids `text` holds, checked as [`decode`] checks it, without holding them.
pub fn count(text: &str) -> Option<u64> {
    runs(text, |_, _| {})
}

/// Calls `each` with every run's first and last id, in order, and returns how many ids the runs
/// hold; `None` at the first item that is not a run after the one before, or once the runs hold
/// more than [`MAX_IDS`].
fn runs(text: &str, mut each: impl FnMut(u64, u64)) -> Option<u64> {
    let mut previous: u64 = 0;
    let mut first = true;
    let mut count: u64 = 0;
    for item in text.split(',').filter(|item| !item.is_empty()) {
        let (gap, more) = match item.split_once('.') {
            Some((gap, more)) => (gap, more.parse::<u64>().ok()?),
            None => (item, 0),
        };
        let start = previous.checked_add(gap.parse::<u64>().ok()?)?;
        if !first && start == previous {
            return None;
        }
        let end = start.checked_add(more)?;
        count = count.saturating_add(more).saturating_add(1);
        if count > MAX_IDS {
            return None;
        }
        each(start, end);
        previous = end;
        first = false;
    }
    Some(count)
}

/// The ids of sorted, distinct `before` that sorted, distinct `now` lacks.
pub fn missing(before: &[u64], now: &[u64]) -> Vec<u64> {
    let mut gone = Vec::new();
    let mut j = 0;
    for &id in before {
        while j < now.len() && now[j] < id {
            j += 1;
        }
        if now.get(j) != Some(&id) {
            gone.push(id);
        }
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_cannot_ask_for_more_ids_than_a_site_has() {
        assert_eq!(decode("0.18446744073709551615"), None);
        assert_eq!(decode("0.100000000000"), None);
        assert_eq!(count("1.49999999"), Some(50_000_000));
        assert_eq!(count("1.50000000"), None);
        assert_eq!(count("1.30000000,1.30000000"), None);
        assert_eq!(count("5,x"), None);
    }

    #[test]
    fn runs_round_trip_compactly() {
        let ids: Vec<u64> = (10000..=10499).chain([10501, 10503]).collect();
        assert_eq!(encode(&ids), "10000.499,2,2");
        assert_eq!(decode("10000.499,2,2"), Some(ids));
        assert_eq!(encode(&[]), "");
        assert_eq!(decode(""), Some(vec![]));
        let interleaved: Vec<u64> = (0..1000).map(|i| 10000 + 3 * i).collect();
        let text = encode(&interleaved);
        assert!(text.len() < 2 * 1000 + 10, "{}", text.len());
        assert_eq!(decode(&text), Some(interleaved));
    }

    #[test]
    fn text_that_is_not_a_run_list_is_refused() {
        for bad in ["x", "1.y", "5,0", "18446744073709551615,1", "1.-2"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn missing_ids_are_those_gone_since() {
        assert_eq!(missing(&[1, 2, 3, 7, 9], &[2, 3, 4, 9, 12]), vec![1, 7]);
        assert_eq!(missing(&[], &[1]), Vec::<u64>::new());
    }
}
