//! Faults drawn at random, rate by rate: the flaky site a long sync meets in real life (5xx,
//! bursts of 429, bodies that break off, a login page now and then) and people editing issues
//! while it pages. Unlike the queued [`Fault`](crate::Fault)s, these need no test to script them,
//! so the simulator binary offers them as flags.

use std::sync::Mutex;

use rand::SeedableRng;

use crate::rng::{Rng, RngExt, mix};

/// How often each fault happens. All zero (the default): a well-behaved site.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chaos {
    /// Share of requests answered 500, 502 or 503.
    pub server_errors: f64,
    /// Share of requests that start a burst of 429s (`Retry-After: 1`, Cloud's headers): the
    /// request and the next `RATE_LIMIT_BURST - 1` are refused.
    pub rate_limit_bursts: f64,
    /// Share of successful answers whose body breaks off halfway (the connection is dropped after
    /// half of the declared `Content-Length`).
    pub cut_bodies: f64,
    /// Share of requests answered by the HTML login page with status 200, as Server does when a
    /// session is dropped.
    pub login_pages: f64,
    /// Every n-th request, an issue is edited (its `updated` becomes now); every fourth edit
    /// creates an issue instead. 0: nobody edits.
    pub edit_every: u32,
}

/// Requests refused in a row once a burst of 429s starts.
pub const RATE_LIMIT_BURST: u32 = 3;

impl Chaos {
    pub fn is_calm(&self) -> bool {
        *self == Chaos::default()
    }
}

/// What chaos does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mischief {
    ServerError(u16),
    RateLimited,
    LoginPage,
    /// Serve the real answer, but break its body off.
    CutBody,
}

/// What happens to the site before a request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    TouchIssue,
    AddIssue,
}

/// The dice: one seeded stream for the whole site, drawn in the order requests arrive.
pub(crate) struct Dice {
    state: Mutex<DiceState>,
}

struct DiceState {
    chaos: Chaos,
    rng: Rng,
    burst_left: u32,
    requests: u64,
    edits: u64,
    faults: u64,
}

impl Dice {
    pub fn new(chaos: Chaos, seed: u64) -> Dice {
        Dice {
            state: Mutex::new(DiceState {
                chaos,
                rng: Rng::seed_from_u64(mix(seed ^ 0xC4A0_5000)),
                burst_left: 0,
                requests: 0,
                edits: 0,
                faults: 0,
            }),
        }
    }

    /// Draws for one request: an edit to make first, and a fault to answer with.
    pub fn roll(&self) -> (Option<Edit>, Option<Mischief>) {
        let mut state = self.state();
        if state.chaos.is_calm() {
            return (None, None);
        }
        state.requests += 1;
        let edit_every = u64::from(state.chaos.edit_every);
        let edit = (edit_every > 0 && state.requests.is_multiple_of(edit_every)).then(|| {
            state.edits += 1;
            if state.edits.is_multiple_of(4) {
                Edit::AddIssue
            } else {
                Edit::TouchIssue
            }
        });
        if state.burst_left > 0 {
            state.burst_left -= 1;
            state.faults += 1;
            return (edit, Some(Mischief::RateLimited));
        }
        let chaos = state.chaos.clone();
        let draw: f64 = state.rng.random();
        // One draw, laid against the rates end to end.
        let mut below = 0.0;
        let mut lands_in = |rate: f64| {
            below += rate;
            draw < below
        };
        let mischief = if lands_in(chaos.server_errors) {
            Some(Mischief::ServerError(
                [500, 502, 503][state.rng.random_range(0..3)],
            ))
        } else if lands_in(chaos.rate_limit_bursts) {
            state.burst_left = RATE_LIMIT_BURST - 1;
            Some(Mischief::RateLimited)
        } else if lands_in(chaos.login_pages) {
            Some(Mischief::LoginPage)
        } else if lands_in(chaos.cut_bodies) {
            Some(Mischief::CutBody)
        } else {
            None
        };
        state.faults += u64::from(mischief.is_some());
        (edit, mischief)
    }

    /// Faults drawn so far.
    pub fn faults(&self) -> u64 {
        self.state().faults
    }

    /// Changes the rates from the next request on; a burst under way ends.
    pub fn set(&self, chaos: Chaos) {
        let mut state = self.state();
        state.chaos = chaos;
        state.burst_left = 0;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, DiceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calm_site_never_misbehaves() {
        let dice = Dice::new(Chaos::default(), 1);
        assert!((0..1000).all(|_| dice.roll() == (None, None)));
    }

    #[test]
    fn faults_come_at_their_rates_and_bursts_last() {
        let dice = Dice::new(
            Chaos {
                server_errors: 0.1,
                rate_limit_bursts: 0.02,
                cut_bodies: 0.1,
                login_pages: 0.05,
                edit_every: 10,
            },
            7,
        );
        let rolls: Vec<_> = (0..20_000).map(|_| dice.roll()).collect();
        let share = |m: fn(&Mischief) -> bool| {
            rolls
                .iter()
                .filter(|(_, f)| f.as_ref().is_some_and(m))
                .count() as f64
                / 20_000.0
        };
        let near = |x: f64, want: f64| (x - want).abs() < want * 0.25;
        // A burst refuses its own request and the next two, which draw nothing else.
        assert!(near(
            share(|m| matches!(m, Mischief::ServerError(_))),
            0.1 * 0.95
        ));
        assert!(near(share(|m| *m == Mischief::RateLimited), 0.055));
        assert!(near(share(|m| *m == Mischief::CutBody), 0.1 * 0.95));
        assert!(near(share(|m| *m == Mischief::LoginPage), 0.05 * 0.95));
        let edits: Vec<Edit> = rolls.iter().filter_map(|(e, _)| *e).collect();
        assert_eq!(edits.len(), 2_000);
        assert_eq!(edits.iter().filter(|e| **e == Edit::AddIssue).count(), 500);
    }
}
