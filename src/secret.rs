//! Credentials kept in: a wrapper that prints as `****`, and a process-wide redactor that blanks
//! every known secret value out of the text the tap prints (a server may echo a credential back in
//! an error body, and a token may sit in a URL's query).

use std::fmt;
use std::sync::RwLock;

use memchr::memmem::Finder;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear value, for the one place that needs it: building a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// What a secret becomes in printed text.
pub const REDACTED: &str = "****";

/// Secret values shorter than this are not redacted: blanking every `ab` out of the logs would
/// garble them and hide nothing worth hiding (such a password falls to guessing anyway).
pub const MIN_REDACTED_LEN: usize = 4;

/// Every secret value learned so far, in each form it may be printed in, each with its searcher
/// built once: every log line is searched for every form, and building a searcher cost more
/// than the search (a request's `METRIC` line took 9,000 instructions to redact, now 700).
static KNOWN: RwLock<Vec<Finder<'static>>> = RwLock::new(Vec::new());

/// Adds `value` to what is redacted: as is, URL-encoded and JSON-escaped (how servers echo it).
/// Called for the configured credentials and for every token learned at run time.
pub fn register(value: &str) {
    if value.len() < MIN_REDACTED_LEN {
        return;
    }
    let mut forms = vec![value.to_string()];
    forms.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    forms.push(percent_encoded(value));
    if let Ok(json) = serde_json::to_string(value) {
        forms.push(json.trim_matches('"').to_string());
    }
    let Ok(mut known) = KNOWN.write() else {
        return;
    };
    for form in forms {
        let form = form.into_bytes();
        if form.len() >= MIN_REDACTED_LEN && !known.iter().any(|k| k.needle() == form) {
            known.push(Finder::new(&form).into_owned());
        }
    }
    // Longest first, so a secret that contains another is blanked whole.
    known.sort_by_key(|form| std::cmp::Reverse(form.needle().len()));
}

/// The Basic credentials `user:password` as they travel in an `Authorization` header, which a
/// server may echo: the base64 form is registered beside the password itself.
pub fn register_basic(user: &str, password: &str) {
    register(password);
    if password.len() >= MIN_REDACTED_LEN {
        register(&base64(format!("{user}:{password}").as_bytes()));
    }
}

/// Learns every secret a config holds, before anything can print it: the values of secret
/// settings, the Basic-auth forms of user and password, and whatever a URL carries in its
/// query or user info (`?token=…`).
pub fn register_config(raw: &crate::config::RawConfig) {
    // As the config reads them: a number is its text (`username: 104233` in meltano.yml).
    let string = |key: &str| {
        raw.values()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    for (key, value) in raw.values() {
        // A secret of digits is a number, read as its text (`password: 20241231`).
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => continue,
        };
        let text = text.as_str();
        // `hash_salt` never goes over the wire, so no server can echo it; and a refused short
        // salt ("short") would blank words out of the very message that refuses it.
        // A proxy's address is named in the log; only its password is secret (below).
        let secret = !matches!(key, "hash_salt" | "proxy_url")
            && crate::config::SETTINGS
                .iter()
                .any(|s| s.name == key && s.is_secret());
        if secret {
            register(text);
            // Tokens are read trimmed: the header carries that form.
            register(text.trim());
        }
        // The callback and authorize addresses are printed whole for the user to open, and
        // `jql` is a query, not a URL: their `?…` parts hold no credential.
        if matches!(key, "oauth_redirect_uri" | "oauth_authorize_url" | "jql") {
            continue;
        }
        if let Ok(url) = url::Url::parse(text) {
            url.query_pairs().for_each(|(_, v)| register(&v));
            if let Some(query) = url.query() {
                register(query);
            }
            register_url_credentials(&url);
        } else if let Some((_, query)) = text.split_once('?') {
            // Not a URL, but printed as given in the message that says so.
            register(query);
            for pair in query.split('&') {
                register(pair.split_once('=').map_or(pair, |(_, v)| v));
            }
        }
    }
    // The user as written and as the config reads it (trimmed): the header carries the latter.
    let users: Vec<String> = [string("email"), string("username")]
        .into_iter()
        .flatten()
        .collect();
    let passwords: Vec<String> = [string("api_token"), string("password")]
        .into_iter()
        .flatten()
        .collect();
    for user in users.iter().flat_map(|user| [user.as_str(), user.trim()]) {
        for password in passwords
            .iter()
            .flat_map(|password| [password.as_str(), password.trim()])
        {
            register_basic(user, password);
        }
    }
}

/// The password in a URL's `user:password@` (a proxy's), as written and decoded, and in the
/// Basic form a proxy header carries it.
pub fn register_url_credentials(url: &url::Url) {
    let Some(written) = url.password() else {
        return;
    };
    register(written);
    let decode = |text: &str| percent_decoded(text).unwrap_or_else(|| text.to_string());
    register_basic(&decode(url.username()), &decode(written));
}

/// `%XX` escapes decoded; `None` when they do not make UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `text` with every registered secret replaced by `****`.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    match redact_bytes(text.as_bytes()) {
        std::borrow::Cow::Borrowed(_) => std::borrow::Cow::Borrowed(text),
        std::borrow::Cow::Owned(bytes) => {
            std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

/// `redact` for bytes, such as a formatted log line.
pub fn redact_bytes(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Ok(known) = KNOWN.read() else {
        return std::borrow::Cow::Borrowed(text);
    };
    let mut out: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(text);
    for secret in known.iter() {
        if secret.find(&out).is_none() {
            continue;
        }
        let mut replaced = Vec::with_capacity(out.len());
        let mut last = 0;
        for at in secret.find_iter(&out) {
            // Overlapping matches: the earlier one already covers this one.
            if at < last {
                continue;
            }
            replaced.extend_from_slice(&out[last..at]);
            replaced.extend_from_slice(REDACTED.as_bytes());
            last = at + secret.needle().len();
        }
        replaced.extend_from_slice(&out[last..]);
        out = std::borrow::Cow::Owned(replaced);
    }
    out
}

/// Every byte but unreserved ones as `%XX`, as a URL built by hand may carry it.
pub(crate) fn percent_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Standard base64 with padding, as HTTP Basic uses it (no dependency for twenty lines).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "**** **** Some(****)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn the_basic_header_of_a_user_written_with_spaces_is_known() {
        let raw = crate::config::RawConfig::from_map(
            serde_json::json!({"email": " trim@example.com ", "api_token": "SECRET-TRIM-1"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        register_config(&raw);
        let header = base64(b"trim@example.com:SECRET-TRIM-1");
        assert_eq!(redact(&format!("Basic {header}")), "Basic ****");
    }

    #[test]
    fn percent_encoding_leaves_only_unreserved_bytes() {
        assert_eq!(percent_encoded("WEB-1_a.b~10000"), "WEB-1_a.b~10000");
        assert_eq!(percent_encoded("1/../x?y#z"), "1%2F..%2Fx%3Fy%23z");
        assert_eq!(percent_encoded("é"), "%C3%A9");
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn a_proxy_password_is_redacted_as_written_decoded_and_in_its_header() {
        let url = url::Url::parse("http://proxy-user:pa%2Fss-w0rd@proxy:3128").unwrap();
        register_url_credentials(&url);
        let header = base64(b"proxy-user:pa/ss-w0rd");
        assert_eq!(
            redact(&format!("pa%2Fss-w0rd pa/ss-w0rd {header}")),
            "**** **** ****"
        );
    }

    #[test]
    fn registered_secrets_are_redacted_in_every_form() {
        register("s3cr3t/t0ken+x");
        register_basic("ann@example.com", "api-tok-123");
        register("abc"); // too short to redact
        let b64 = base64(b"ann@example.com:api-tok-123");
        let text = format!(
            "token s3cr3t/t0ken+x url ?t=s3cr3t%2Ft0ken%2Bx header Basic {b64} pw api-tok-123 abc"
        );
        assert_eq!(
            redact(&text),
            "token **** url ?t=**** header Basic **** pw **** abc"
        );
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
