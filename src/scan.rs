//! Scanning JSON text where the tap checks it: where plain text in a string stops (at its closing
//! quote, an escape, or a control character, which JSON forbids there), and where whitespace ends.
//! Every string of every page goes through here, most of them a few bytes long: their first bytes
//! are looked at eight at a time, the first special one found by its bit; the rest of a long string
//! is searched with `memchr`.

use memchr::memchr2;

/// Words looked at one by one before a string counts as long.
const SHORT_WORDS: usize = 3;

/// The index of the first byte from `from` on that is a quote, a backslash or below 0x20.
#[inline(always)]
pub fn next_special(b: &[u8], from: usize) -> Option<usize> {
    let from = match short(b, from) {
        Ok(found) => return found,
        Err(long) => long,
    };
    let found = from + memchr2(b'"', b'\\', b.get(from..)?).unwrap_or(b.len() - from);
    let skipped = b.get(from..found)?;
    if has_control(skipped) {
        return tail(b, from);
    }
    (found < b.len()).then_some(found)
}

/// The index of the first byte from `at` on that is not JSON's whitespace (space, tab, line feed,
/// carriage return).
#[inline]
pub fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while matches!(b.get(at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        at += 1;
    }
    at
}

/// The first special byte among the first few words: `Ok` with the answer, or `Err` with where
/// a long string goes on.
#[inline]
fn short(b: &[u8], mut from: usize) -> Result<Option<usize>, usize> {
    for _ in 0..SHORT_WORDS {
        let Some(word) = word_at(b, from) else {
            return Ok(tail(b, from));
        };
        let found = special_bytes(word);
        if found != 0 {
            return Ok(Some(from + (found.trailing_zeros() / 8) as usize));
        }
        from += 8;
    }
    Err(from)
}

/// Whether `text` has a byte below 0x20, looked at a block at a time (the fold vectorises).
fn has_control(text: &[u8]) -> bool {
    text.chunks(32)
        .any(|block| block.iter().fold(false, |any, &c| any | (c < 0x20)))
}

#[inline]
fn word_at(b: &[u8], at: usize) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(<[u8; 8]>::try_from(bytes).ok()?))
}

/// The last few bytes, fewer than a word.
fn tail(b: &[u8], from: usize) -> Option<usize> {
    Some(
        from + b
            .get(from..)?
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?,
    )
}

/// The high bit of each special byte of `word` (least significant byte first). Above the first
/// special byte bits may be set wrongly (borrows carry), so only the lowest counts.
#[inline]
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    (control | quote | backslash) & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(b: &[u8], from: usize) -> Option<usize> {
        (from..b.len()).find(|&i| b[i] == b'"' || b[i] == b'\\' || b[i] < 0x20)
    }

    #[test]
    fn finds_the_first_special_byte_wherever_it_is() {
        for len in 0..80 {
            for at in 0..len {
                for special in [b'"', b'\\', 0, 0x1f, b'\n'] {
                    // Bytes around the special one that are close to it in value.
                    let mut text: Vec<u8> = (0..len)
                        .map(|i| [b'a', 0x20, 0x7f, 0xc3, b'#', b']'][i % 6])
                        .collect();
                    text[at] = special;
                    if at + 1 < len {
                        text[at + 1] = b'"';
                    }
                    for from in [0, at / 2, at] {
                        assert_eq!(
                            next_special(&text, from),
                            slow(&text, from),
                            "{text:?} from {from}"
                        );
                    }
                }
            }
            let plain = vec![b'x'; len];
            assert_eq!(next_special(&plain, 0), None);
        }
    }
}
