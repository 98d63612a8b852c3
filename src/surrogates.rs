//! Lone UTF-16 surrogates in JSON escapes (`\ud800` with no low half after it). A Java string
//! can hold one (a text cut in the middle of an emoji), and Jira writes it as an escape that
//! strict JSON readers refuse and no UTF-8 text can hold. The tap writes U+FFFD in its place,
//! in the same six bytes, so what was found in a record (its layout, its date-times) stays
//! where it was.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether any body read so far held a surrogate escape: until one does, records are not looked
/// through for them.
static SEEN: AtomicBool = AtomicBool::new(false);

/// Notes the escape `\u` + `hex` (four hex digits), met while a body is checked.
#[inline(always)]
pub fn note(hex: &[u8]) {
    if let [d, h, ..] = hex
        && d.eq_ignore_ascii_case(&b'd')
        && matches!(h.to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
    {
        SEEN.store(true, Ordering::Relaxed);
    }
}

/// A record's text as the tap keeps it: lone surrogates replaced, once any body had one.
pub fn checked(text: String) -> String {
    if !SEEN.load(Ordering::Relaxed) {
        return text;
    }
    replaced(&text).unwrap_or(text)
}

/// `text` (JSON) with every lone surrogate escape replaced by `\ufffd`; `None` when it has none.
pub fn replaced(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut lone: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'\\', &b[at..]) {
        let i = at + found;
        match b.get(i + 1) {
            Some(b'u') => {
                let half = |at: usize| b.get(at + 2..at + 6).and_then(surrogate_half);
                match half(i) {
                    Some(High) if b.get(i + 6) == Some(&b'\\') && half(i + 6) == Some(Low) => {
                        at = i + 12;
                    }
                    Some(_) => {
                        lone.push(i);
                        at = i + 6;
                    }
                    None => at = i + 6,
                }
            }
            // Any other escape is two bytes: `\\` must not be read as the start of the next.
            _ => at = i + 2,
        }
    }
    if lone.is_empty() {
        return None;
    }
    let mut bytes = b.to_vec();
    for i in lone {
        if let Some(escape) = bytes.get_mut(i..i + 6) {
            escape.copy_from_slice(b"\\ufffd");
        }
    }
    String::from_utf8(bytes).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    High,
    Low,
}
use Half::{High, Low};

/// Which half of a surrogate pair the four hex digits of an escape name, if either.
fn surrogate_half(hex: &[u8]) -> Option<Half> {
    let text = std::str::from_utf8(hex).ok()?;
    match u16::from_str_radix(text, 16).ok()? {
        0xD800..=0xDBFF => Some(High),
        0xDC00..=0xDFFF => Some(Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_halves_become_the_replacement_character_and_pairs_stay() {
        let cases = [
            (r#""a \ud800 b""#, Some(r#""a \ufffd b""#)),
            (r#""\uDC00""#, Some(r#""\ufffd""#)),
            (r#""\ud83d\ude00""#, None),
            (r#""\ud83d\u0041""#, Some(r#""\ufffd\u0041""#)),
            (r#""\ud83d""#, Some(r#""\ufffd""#)),
            (r#""\\ud800""#, None),
            (r#""\\\ud800""#, Some(r#""\\\ufffd""#)),
            (r#""\u00e9 \n""#, None),
            (r#""\ude00\ud83d""#, Some(r#""\ufffd\ufffd""#)),
        ];
        for (text, expected) in cases {
            let got = replaced(text);
            assert_eq!(got.as_deref(), expected, "{text}");
            if let Some(fixed) = got {
                assert_eq!(fixed.len(), text.len());
                assert!(serde_json::from_str::<String>(&fixed).is_ok(), "{fixed}");
            }
        }
    }

    #[test]
    fn surrogate_halves_are_told_apart() {
        for hex in ["d800", "DBFF"] {
            assert!(surrogate_half(hex.as_bytes()) == Some(High), "{hex}");
        }
        for hex in ["dc00", "Dfff"] {
            assert!(surrogate_half(hex.as_bytes()) == Some(Low), "{hex}");
        }
        for hex in ["d7ff", "e000", "0041", "zzzz"] {
            assert!(surrogate_half(hex.as_bytes()).is_none(), "{hex}");
        }
    }
}
