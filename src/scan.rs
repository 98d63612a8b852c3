//! Scanning JSON text where the tap checks it: where plain text in a string stops (at its closing
//! quote, an escape, or a control character, which JSON forbids there), and where whitespace ends.
//! Every string of every page goes through here, most of them a few bytes long: their first bytes
//! are looked at sixteen at a time, the first special one found by its bit; the rest of a long
//! string is searched with `memchr`.

use memchr::memchr2;

/// Blocks of 16 bytes looked at one by one before a string counts as long.
const SHORT_BLOCKS: usize = 4;

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

/// The first special byte among the first few blocks: `Ok` with the answer, or `Err` with where
/// a long string goes on.
#[inline]
fn short(b: &[u8], mut from: usize) -> Result<Option<usize>, usize> {
    for _ in 0..SHORT_BLOCKS {
        let Some(block) = b.get(from..).and_then(|rest| rest.first_chunk::<16>()) else {
            return Ok(tail(b, from));
        };
        let found = special_mask(block);
        if found != 0 {
            return Ok(Some(from + found.trailing_zeros() as usize));
        }
        from += 16;
    }
    Err(from)
}

/// A mask of `block`'s bytes whose lowest set bit (the first byte's is the lowest) marks the first
/// special byte; 0 when there is none. Three vector compares and one mask move with SSE2, which
/// every x86-64 has.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn special_mask(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86-64 processor (and the build requires it); `block` is 16
    // readable bytes, and the load needs no alignment.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Below 0x20 exactly when the unsigned minimum with 0x1f is the byte itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// `special_mask` where there is no SSE2.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn special_mask(block: &[u8; 16]) -> u32 {
    special_mask_by_words(block)
}

/// `special_mask` a word at a time.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2"),
    allow(dead_code, reason = "tested beside the SSE2 one")
)]
#[inline]
fn special_mask_by_words(block: &[u8; 16]) -> u32 {
    let (low, high) = block.split_at(8);
    let word = |half: &[u8]| u64::from_le_bytes(half.try_into().unwrap_or([0; 8]));
    match (special_bytes(word(low)), special_bytes(word(high))) {
        (0, 0) => 0,
        (0, high) => 1 << (8 + high.trailing_zeros() / 8),
        (low, _) => 1 << (low.trailing_zeros() / 8),
    }
}

/// Whether `text` has a byte below 0x20, looked at a block at a time (the fold vectorises).
fn has_control(text: &[u8]) -> bool {
    text.chunks(32)
        .any(|block| block.iter().fold(false, |any, &c| any | (c < 0x20)))
}

/// The last few bytes, fewer than a block.
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
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2"),
    allow(dead_code, reason = "tested beside the SSE2 one")
)]
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

    #[test]
    fn both_masks_mark_the_first_special_byte() {
        let first = |mask: u32| (mask != 0).then(|| mask.trailing_zeros() as usize);
        for at in 0..16 {
            for special in [b'"', b'\\', 0, 0x1f, b'\n'] {
                for filler in [b'a', 0x20, 0x7f, 0x80, 0xc3, 0xff, b'!', b'#', b']'] {
                    let mut block = [filler; 16];
                    block[at] = special;
                    // Bytes after the first special one that could confuse a word's borrows.
                    if at + 1 < 16 {
                        block[at + 1] = 0x01;
                    }
                    let want = slow(&block, 0);
                    assert_eq!(first(special_mask(&block)), want, "{block:?}");
                    assert_eq!(first(special_mask_by_words(&block)), want, "{block:?}");
                }
            }
        }
        let plain = [b'x'; 16];
        assert_eq!(special_mask(&plain), 0);
        assert_eq!(special_mask_by_words(&plain), 0);
    }
}
