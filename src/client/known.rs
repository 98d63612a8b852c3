//! Objects and lists already checked, kept by their text. Jira writes the same user, status,
//! priority, project and option objects into issue after issue (in a real Cloud search page of 18
//! issues, 64% of the bytes repeat an object or list of 128 bytes or more that the page already
//! had; in the simulator's pages, 66%); a value met again is told by comparing its bytes with one
//! checked before, far faster than checking it again, and what the check showed of it is shown
//! again.
//!
//! Only the check is skipped: the bytes are compared whole, so a value taken from here is
//! exactly one that was checked, and ends where it ended.

use std::hash::BuildHasher;
use std::ops::Range;

use super::split::{MAX_DEPTH, nested_end};
use crate::raw::StringValue;

/// Values shorter than this are checked faster than looked up; the first this many bytes of a
/// value choose its bucket.
const MIN_LEN: usize = 128;

/// Longer values are not kept: a value that large is seldom repeated whole. Offsets within a
/// value fit in a `u16`.
const MAX_LEN: usize = 16 << 10;

/// Buckets, of `WAYS` values each; a value goes to the bucket its first bytes hash to.
const BUCKETS: usize = 1024;
const WAYS: usize = 4;

/// Bytes of text kept at most; when they are full, every value is let go and keeping starts
/// again. One block, taken at once: values kept one by one in blocks of their own were strewn
/// among the records' and held the heap's pages (faults × 2).
const MAX_BYTES: usize = 1 << 20;

/// Strings within the values kept, at most.
const MAX_STRINGS: usize = MAX_BYTES / 16;

/// Bytes at a value's end that, with its length, tell whether it was met before.
const TAIL: usize = 64;

/// The values kept, and the strings a check of one shows, gathered while it is checked.
#[derive(Default)]
pub(super) struct Known {
    buckets: Vec<Bucket>,
    /// The texts of the values kept, one after the other.
    texts: Vec<u8>,
    /// The strings within them, as offsets from their value's first byte.
    strings: Vec<KnownString>,
    /// The strings of the value being checked.
    showing: Vec<StringValue>,
}

/// Values with the same first bytes.
#[derive(Default)]
struct Bucket {
    /// The values kept, the one last met first.
    values: [Option<KnownValue>; WAYS],
    /// Values met once and not kept, as their `signature`, newest first: a value is kept the
    /// second time it is met, so that values met once (most documents, most pages' own
    /// objects) are not copied, nor push out those that repeat.
    met: [u64; WAYS],
}

/// A value kept: where its text and strings are, and how deeply it nests.
#[derive(Clone, Copy)]
struct KnownValue {
    text: u32,
    len: u32,
    strings: u32,
    count: u32,
    /// Levels of objects and lists, the value's own included.
    levels: u32,
}

/// A string within a value kept.
#[derive(Clone, Copy)]
struct KnownString {
    open: u16,
    close: u16,
    escaped: bool,
}

impl Known {
    /// The index past the object or list at `at` (`depth` levels down), as `split::nested_end`
    /// finds it, showing `seen` the same strings; from a value kept when its text is one.
    pub(super) fn nested_end(
        &mut self,
        b: &[u8],
        at: usize,
        depth: usize,
        seen: &mut impl FnMut(StringValue),
    ) -> Option<usize> {
        let Some(bucket) = bucket_of(b, at) else {
            return Some(nested_end(b, at, depth, seen)?.0);
        };
        if let Some(end) = self.kept(bucket, b, at, depth, seen) {
            return Some(end);
        }
        let showing = &mut self.showing;
        showing.clear();
        let (end, levels) = nested_end(b, at, depth, &mut |s: StringValue| {
            showing.push(s);
            seen(s);
        })?;
        self.met(bucket, b, at..end, levels);
        Some(end)
    }

    /// The end of the value at `at` when it is one kept in `bucket`, its strings shown to `seen`.
    fn kept(
        &mut self,
        bucket: usize,
        b: &[u8],
        at: usize,
        depth: usize,
        seen: &mut impl FnMut(StringValue),
    ) -> Option<usize> {
        let values = &mut self.buckets.get_mut(bucket)?.values;
        let texts = &self.texts;
        let way = values.iter().position(|value| {
            value.is_some_and(|known| {
                let len = known.len as usize;
                depth + known.levels as usize <= MAX_DEPTH
                    && texts
                        .get(known.text as usize..known.text as usize + len)
                        .is_some_and(|text| b.get(at..at + len) == Some(text))
            })
        })?;
        values[..=way].rotate_right(1);
        let known = values[0]?;
        let first = known.strings as usize;
        for s in self.strings.get(first..first + known.count as usize)? {
            seen(StringValue {
                open: at + usize::from(s.open),
                close: at + usize::from(s.close),
                escaped: s.escaped,
            });
        }
        Some(at + known.len as usize)
    }

    /// Notes the value in `b[span]` just checked, whose strings are in `self.showing`: kept
    /// when it was met before, remembered as met when not.
    fn met(&mut self, bucket: usize, b: &[u8], span: Range<usize>, levels: usize) {
        let text = &b[span.clone()];
        if !(MIN_LEN..=MAX_LEN).contains(&text.len()) {
            return;
        }
        if self.buckets.is_empty() {
            self.buckets.resize_with(BUCKETS, Bucket::default);
        }
        let signature = signature(text);
        let Some(place) = self.buckets.get_mut(bucket) else {
            return;
        };
        let Some(once) = place.met.iter().position(|&m| m == signature) else {
            place.met.rotate_right(1);
            place.met[0] = signature;
            return;
        };
        place.met[once] = 0;
        // The block is taken when a first value is kept: a thread that meets none twice
        // takes none.
        if self.texts.capacity() == 0 {
            self.texts.reserve_exact(MAX_BYTES);
        }
        if self.texts.len() + text.len() > MAX_BYTES
            || self.strings.len() + self.showing.len() > MAX_STRINGS
        {
            for bucket in &mut self.buckets {
                bucket.values = [None; WAYS];
            }
            self.texts.clear();
            self.strings.clear();
        }
        let known = KnownValue {
            text: self.texts.len() as u32,
            len: text.len() as u32,
            strings: self.strings.len() as u32,
            count: self.showing.len() as u32,
            levels: levels as u32,
        };
        self.texts.extend_from_slice(text);
        self.strings
            .extend(self.showing.iter().map(|s| KnownString {
                // Within a value of at most `MAX_LEN` bytes.
                open: (s.open - span.start) as u16,
                close: (s.close - span.start) as u16,
                escaped: s.escaped,
            }));
        if let Some(place) = self.buckets.get_mut(bucket) {
            place.values.rotate_right(1);
            place.values[0] = Some(known);
        }
    }
}

/// The bucket for the value at `at`, from its first `MIN_LEN` bytes; `None` when fewer follow.
fn bucket_of(b: &[u8], at: usize) -> Option<usize> {
    let prefix = b.get(at..at.checked_add(MIN_LEN)?)?;
    let hash = foldhash::fast::FixedState::with_seed(0).hash_one(prefix);
    Some(hash as usize % BUCKETS)
}

/// A value's length and a hash of its last bytes, never 0 (a place no value was met at).
fn signature(text: &[u8]) -> u64 {
    let tail = &text[text.len().saturating_sub(TAIL)..];
    foldhash::fast::FixedState::with_seed(text.len() as u64).hash_one(tail) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `split::nested_end` gives, and the strings it shows.
    fn checked(b: &[u8], at: usize, depth: usize) -> (Option<usize>, Vec<StringValue>) {
        let mut shown = Vec::new();
        let end = nested_end(b, at, depth, &mut |s| shown.push(s)).map(|(end, _)| end);
        (end, shown)
    }

    fn known_end(
        known: &mut Known,
        b: &[u8],
        at: usize,
        depth: usize,
    ) -> (Option<usize>, Vec<StringValue>) {
        let mut shown = Vec::new();
        let end = known.nested_end(b, at, depth, &mut |s| shown.push(s));
        (end, shown)
    }

    fn user(id: &str) -> String {
        format!(
            r#"{{"self":"https://example.atlassian.net/rest/api/3/user?accountId={id}","accountId":"{id}","displayName":"Someone","active":true,"timeZone":"Europe/Paris","created":"2024-01-02T03:04:05.000+0000","avatarUrls":{{"48x48":"https://avatar.example/{id}"}}}}"#
        )
    }

    #[test]
    fn a_value_met_again_ends_and_shows_as_when_it_was_checked() {
        let mut known = Known::default();
        let a = user("5b10a2844c20165700ede21g");
        let b = user("5b10a2844c20165700ede22h");
        let text = format!(r#"[{a}, {b}, {a}, {a}, {b}]"#);
        let bytes = text.as_bytes();
        let mut at = 1;
        for _ in 0..5 {
            let want = checked(bytes, at, 1);
            assert_eq!(known_end(&mut known, bytes, at, 1), want);
            assert!(want.1.len() >= 3, "long strings shown: {:?}", want.1);
            at = want.0.expect("valid") + 2;
        }
        // Each kept the second time it was met.
        assert_eq!(known.texts.len(), a.len() + b.len());
    }

    #[test]
    fn a_value_that_differs_after_its_first_bytes_is_checked() {
        let mut known = Known::default();
        let good = user("5b10a2844c20165700ede21g");
        assert_eq!(
            known_end(&mut known, good.as_bytes(), 0, 1).0,
            Some(good.len())
        );
        // The same first bytes, then what is not JSON, or a value that ends elsewhere.
        for other in [
            good.replace("Europe/Paris", "Europe\u{1}Paris"),
            good.replace(r#""active":true"#, r#""active":tru"#),
            good.replace(r#""active":true"#, r#""active":[true,false]"#),
            good[..good.len() - 1].to_string(),
        ] {
            assert_eq!(
                known_end(&mut known, other.as_bytes(), 0, 1),
                checked(other.as_bytes(), 0, 1),
                "{other}"
            );
        }
    }

    #[test]
    fn a_value_kept_is_not_taken_deeper_than_the_check_allows() {
        let mut known = Known::default();
        let nested = format!(r#"{{"a":[[[{}]]]}}"#, user("x"));
        let b = nested.as_bytes();
        assert_eq!(known_end(&mut known, b, 0, 1).0, Some(b.len()));
        for depth in [MAX_DEPTH - 6, MAX_DEPTH - 5, MAX_DEPTH - 4] {
            assert_eq!(
                known_end(&mut known, b, 0, depth),
                checked(b, 0, depth),
                "at depth {depth}"
            );
        }
    }

    #[test]
    fn kept_text_stays_within_its_bound() {
        let mut known = Known::default();
        for i in 0..20_000 {
            let value = user(&format!("{i:024}"));
            let before = known.texts.len();
            known.nested_end(value.as_bytes(), 0, 1, &mut |_| {});
            assert_eq!(known.texts.len(), before, "a value met once is not kept");
            if i == 0 {
                assert_eq!(known.texts.capacity(), 0, "no block before a value is kept");
            }
            known.nested_end(value.as_bytes(), 0, 1, &mut |_| {});
            assert!(known.texts.len() > before || known.texts.len() == value.len());
            assert!(known.texts.len() <= MAX_BYTES && known.texts.capacity() == MAX_BYTES);
        }
    }
}
