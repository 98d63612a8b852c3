//! Jira's pagination styles, and one function that walks any of them as a stream of pages.

use std::collections::HashSet;

use futures::Stream;
use serde_json::{Value, json};

use super::{ApiRequest, JiraClient};
use crate::error::{Error, Result};

/// How an endpoint pages. The records sit under `items` (a key, or a JSON pointer when it starts
/// with `/`), or the body is a bare array when `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// One response holds everything.
    Single { items: Option<&'static str> },
    /// The body is a single object: one record.
    One,
    /// `startAt`/`maxResults`, ending on `isLast`, on `startAt + n >= total`, or on an empty page —
    /// never on a short page, since Jira caps pages below what was asked.
    Offset { items: Option<&'static str> },
    /// `offset`/`limit` (the audit log), ending like `Offset`.
    OffsetLimit { items: &'static str },
    /// `nextPageToken`, ending when the token is absent or `isLast` is true.
    Token { items: &'static str },
}

/// One page of records.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Value>,
}

enum Cursor {
    Start,
    Offset(u64),
    Token(String),
}

/// Walks every page of `request`. A page is fetched only when the previous one has been consumed,
/// so memory holds one page at a time.
pub fn pages(
    client: &JiraClient,
    request: ApiRequest,
    pagination: Pagination,
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + '_ {
    async_stream::try_stream! {
        let mut cursor = Cursor::Start;
        let mut seen_tokens: HashSet<String> = HashSet::new();
        loop {
            let mut request = request.clone();
            match (&pagination, &cursor) {
                (Pagination::Single { .. } | Pagination::One, _) => {}
                (Pagination::Offset { .. }, cursor) => {
                    let start = match cursor { Cursor::Offset(n) => *n, _ => 0 };
                    request.set_param("startAt", json!(start));
                    request.set_param("maxResults", json!(page_size));
                }
                (Pagination::OffsetLimit { .. }, cursor) => {
                    let start = match cursor { Cursor::Offset(n) => *n, _ => 0 };
                    request.set_param("offset", json!(start));
                    request.set_param("limit", json!(page_size));
                }
                (Pagination::Token { .. }, cursor) => {
                    request.set_param("maxResults", json!(page_size));
                    if let Cursor::Token(token) = cursor {
                        request.set_param("nextPageToken", json!(token));
                    }
                }
            }
            let path = request.path.clone();
            let body = client.send_json(request).await?;
            if pagination == Pagination::One {
                yield Page { items: vec![body] };
                break;
            }
            let n = count_items(body_items_key(pagination), &body);
            let next = next_cursor(pagination, &cursor, &body, n);
            let items = take_items(body_items_key(pagination), body, &path)?;
            yield Page { items };
            match next {
                None => break,
                Some(Cursor::Token(token)) => {
                    if !seen_tokens.insert(token.clone()) {
                        Err(Error::Shape {
                            url: path,
                            problem: "Jira returned a nextPageToken it had already returned; stopping \
                                      instead of looping".into(),
                        })?;
                    }
                    cursor = Cursor::Token(token);
                }
                Some(other) => cursor = other,
            }
        }
    }
}

fn body_items_key(pagination: Pagination) -> Option<&'static str> {
    match pagination {
        Pagination::Single { items } | Pagination::Offset { items } => items,
        Pagination::Token { items } | Pagination::OffsetLimit { items } => Some(items),
        Pagination::One => None,
    }
}

fn count_items(key: Option<&str>, body: &Value) -> u64 {
    let list = match key {
        None => body.as_array(),
        Some(pointer) if pointer.starts_with('/') => {
            body.pointer(pointer).and_then(Value::as_array)
        }
        Some(key) => body.get(key).and_then(Value::as_array),
    };
    list.map_or(0, |l| l.len() as u64)
}

/// Moves the records out of the body (no copy).
fn take_items(key: Option<&str>, mut body: Value, path: &str) -> Result<Vec<Value>> {
    let list = match key {
        None => body.take(),
        // A missing key means an empty page (Jira omits empty lists on some endpoints).
        Some(pointer) if pointer.starts_with('/') => match body.pointer_mut(pointer) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(list) => list.take(),
        },
        Some(key) => match body.as_object_mut() {
            Some(map) => match map.get_mut(key) {
                None | Some(Value::Null) => return Ok(Vec::new()),
                Some(list) => list.take(),
            },
            None => Value::Null,
        },
    };
    match list {
        Value::Array(items) => Ok(items),
        _ => Err(Error::Shape {
            url: path.to_string(),
            problem: match key {
                None => "expected a JSON array".into(),
                Some(key) => format!("expected a list under `{key}`"),
            },
        }),
    }
}

fn next_cursor(pagination: Pagination, cursor: &Cursor, body: &Value, n: u64) -> Option<Cursor> {
    match pagination {
        Pagination::Single { .. } | Pagination::One => None,
        Pagination::Offset { .. } | Pagination::OffsetLimit { .. } => {
            let start = match cursor {
                Cursor::Offset(s) => *s,
                _ => 0,
            };
            let is_last = body.get("isLast").and_then(Value::as_bool);
            let total = body.get("total").and_then(Value::as_u64);
            let done = n == 0 || is_last == Some(true) || total.is_some_and(|t| start + n >= t);
            (!done).then_some(Cursor::Offset(start + n))
        }
        Pagination::Token { .. } => {
            let token = body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty());
            let is_last = body.get("isLast").and_then(Value::as_bool) == Some(true);
            match token {
                Some(token) if !is_last => Some(Cursor::Token(token.to_string())),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(p: Pagination, at: u64, body: Value, n: u64) -> Option<u64> {
        match next_cursor(p, &Cursor::Offset(at), &body, n) {
            Some(Cursor::Offset(s)) => Some(s),
            None => None,
            Some(_) => panic!("unexpected cursor"),
        }
    }

    #[test]
    fn offset_advances_by_what_came_back_not_by_what_was_asked() {
        let p = Pagination::Offset {
            items: Some("issues"),
        };
        assert_eq!(next(p, 0, json!({"total": 250}), 100), Some(100));
        assert_eq!(
            next(p, 100, json!({"total": 250}), 37),
            Some(137),
            "a short page is not the end"
        );
        assert_eq!(next(p, 200, json!({"total": 250}), 50), None);
        assert_eq!(next(p, 0, json!({"isLast": true}), 10), None);
        assert_eq!(next(p, 0, json!({"isLast": false}), 10), Some(10));
        assert_eq!(
            next(Pagination::Offset { items: None }, 5, json!([]), 0),
            None,
            "empty bare page ends"
        );
    }

    #[test]
    fn token_stops_when_absent_or_last() {
        let p = Pagination::Token { items: "issues" };
        let token = |body: Value| match next_cursor(p, &Cursor::Start, &body, 1) {
            Some(Cursor::Token(t)) => Some(t),
            _ => None,
        };
        assert_eq!(
            token(json!({"nextPageToken": "a=", "isLast": false})),
            Some("a=".into())
        );
        assert_eq!(token(json!({"nextPageToken": "a=", "isLast": true})), None);
        assert_eq!(token(json!({"isLast": false})), None);
    }

    #[test]
    fn items_under_a_key_or_bare() {
        assert_eq!(
            take_items(Some("values"), json!({"values": [1, 2]}), "p")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(take_items(Some("values"), json!({}), "p").unwrap().len(), 0);
        assert_eq!(take_items(None, json!([1]), "p").unwrap().len(), 1);
        assert_eq!(
            take_items(
                Some("/changelog/histories"),
                json!({"changelog": {"histories": [1, 2, 3]}}),
                "p"
            )
            .unwrap()
            .len(),
            3
        );
        assert!(take_items(None, json!({"a": 1}), "p").is_err());
    }
}
