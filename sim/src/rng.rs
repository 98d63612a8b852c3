//! Deterministic randomness: each generated value draws from a ChaCha stream keyed by the site
//! seed and by what is being generated, so a value never depends on request order or on which
//! other fields were asked for.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub(crate) use rand::RngExt;

pub(crate) type Rng = ChaCha8Rng;

/// SplitMix64's finaliser: spreads the bits of a key so nearby keys give unrelated streams.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A random stream for the thing named by `parts` (e.g. `[ISSUE, index, FIELD, field]`).
pub(crate) fn stream(seed: u64, parts: &[u64]) -> Rng {
    let key = parts.iter().fold(mix(seed), |acc, part| mix(acc ^ part));
    Rng::seed_from_u64(key)
}

/// One element of a non-empty slice.
pub(crate) fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Names of the streams, so that two kinds of values never share one.
pub(crate) mod topic {
    pub const USER: u64 = 1;
    pub const PROJECT: u64 = 2;
    pub const ISSUE: u64 = 3;
    pub const FIELD: u64 = 4;
    pub const COMMENT: u64 = 5;
    pub const WORKLOG: u64 = 6;
    pub const HISTORY: u64 = 7;
    pub const TOUCH: u64 = 8;
    pub const LINKS: u64 = 9;
    pub const TIES: u64 = 10;
    pub const ATTACHMENT: u64 = 11;
    pub const TOKEN: u64 = 12;
    pub const REMOTE_LINK: u64 = 13;
    pub const SOCIAL: u64 = 14;
    pub const SECURITY: u64 = 15;
    pub const AUDIT: u64 = 16;
    pub const SETUP: u64 = 17;
    pub const DELETION: u64 = 18;
}
