//! Word lists and small text builders for names, summaries and sentences.

use crate::rng::{Rng, RngExt, pick};

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Alice", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Gustavo", "Hana", "Ivan", "Jonas",
    "Keiko", "Liam", "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tariq", "Uma",
    "Victor", "Wen", "Ximena", "Yusuf", "Zoë",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Anders", "Okafor", "Müller", "Nakamura", "Silva", "Kowalski", "Haddad", "O'Brien", "Rossi",
    "Svensson", "Dubois", "Patel", "García", "Novak", "Kim", "Larsen", "Moreau", "Ivanova",
];

pub(crate) const TIME_ZONES: &[&str] = &[
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "UTC",
];

const VERBS: &[&str] = &[
    "Fix",
    "Add",
    "Remove",
    "Refactor",
    "Investigate",
    "Document",
    "Speed up",
    "Migrate",
    "Validate",
    "Retry",
    "Cache",
    "Localise",
];

const OBJECTS: &[&str] = &[
    "login timeout",
    "CSV export",
    "billing webhook",
    "search index",
    "audit trail",
    "password reset flow",
    "dashboard widgets",
    "rate limiter",
    "mobile push",
    "invoice PDF",
    "SSO callback",
    "user avatars",
    "report scheduler",
    "API pagination",
];

const QUALIFIERS: &[&str] = &[
    "on Safari",
    "for large tenants",
    "after upgrade",
    "in the EU region",
    "when offline",
    "under load",
    "for new users",
    "behind the proxy",
    "on Android 14",
    "in dark mode",
];

const WORDS: &[&str] = &[
    "the", "service", "returns", "an", "error", "when", "users", "open", "their", "settings",
    "page", "after", "midnight", "and", "retries", "do", "not", "help", "we", "should", "check",
    "logs", "queue", "latency", "grows", "steadily", "customer", "reported", "it", "twice", "this",
    "week", "deploy", "rollback", "worked", "café", "naïve", "façade",
];

pub(crate) const LABELS: &[&str] = &[
    "backend",
    "frontend",
    "customer-reported",
    "tech-debt",
    "security",
    "performance",
    "ux",
    "needs_triage",
];

/// An issue summary like "Fix login timeout on Safari".
pub(crate) fn summary(rng: &mut Rng) -> String {
    let mut text = format!("{} {}", pick(rng, VERBS), pick(rng, OBJECTS));
    if rng.random_bool(0.6) {
        text.push(' ');
        text.push_str(pick(rng, QUALIFIERS));
    }
    text
}

/// A plain sentence of a few words, capitalised and ending with a full stop.
pub(crate) fn sentence(rng: &mut Rng) -> String {
    let count = rng.random_range(4..12);
    let mut words: Vec<&str> = (0..count).map(|_| pick(rng, WORDS)).collect();
    let mut text = String::new();
    if let Some(first) = words.first_mut() {
        let mut chars = first.chars();
        if let Some(c) = chars.next() {
            text.extend(c.to_uppercase());
            text.push_str(chars.as_str());
        }
    }
    for word in &words[1..] {
        text.push(' ');
        text.push_str(word);
    }
    text.push('.');
    text
}

/// A short lowercase phrase, for names of things.
pub(crate) fn phrase(rng: &mut Rng) -> String {
    format!("{} {}", pick(rng, WORDS), pick(rng, OBJECTS))
}
