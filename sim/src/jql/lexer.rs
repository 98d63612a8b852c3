//! JQL tokens: words, quoted strings, operators and punctuation, each with its position.

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An unquoted word: a field name, keyword, key, number or date without spaces.
    Word(String),
    /// A quoted string (`"..."` or `'...'`).
    Quoted(String),
    /// `=`, `!=`, `>`, `>=`, `<`, `<=`, `~`, `!~`.
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

impl Tok {
    /// The token as it appeared, for error messages.
    pub fn text(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::Quoted(q) => q.clone(),
            Tok::Op(op) => op.to_string(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::Comma => ",".into(),
        }
    }

    /// Whether this is the (case-insensitive) keyword `kw`.
    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// A token and its 1-based character position in the query, as Jira reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spanned {
    pub tok: Tok,
    pub at: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '[' | ']')
}

/// Splits a query into tokens; the error names the character that starts no token.
pub(crate) fn lex(input: &str) -> Result<Vec<Spanned>, (String, usize)> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, next) = match c {
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            ',' => (Tok::Comma, i + 1),
            '"' | '\'' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err((format!("unterminated string starting at {c}"), at)),
                        Some('\\') if j + 1 < chars.len() => {
                            text.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(&q) if q == c => break,
                        Some(&other) => {
                            text.push(other);
                            j += 1;
                        }
                    }
                }
                (Tok::Quoted(text), j + 1)
            }
            '=' => (Tok::Op("="), i + 1),
            '~' => (Tok::Op("~"), i + 1),
            '!' | '>' | '<' => {
                let two = chars.get(i + 1) == Some(&'=');
                let tilde = c == '!' && chars.get(i + 1) == Some(&'~');
                match (c, two, tilde) {
                    ('!', true, _) => (Tok::Op("!="), i + 2),
                    ('!', _, true) => (Tok::Op("!~"), i + 2),
                    ('>', true, _) => (Tok::Op(">="), i + 2),
                    ('<', true, _) => (Tok::Op("<="), i + 2),
                    ('>', false, _) => (Tok::Op(">"), i + 1),
                    ('<', false, _) => (Tok::Op("<"), i + 1),
                    _ => return Err((c.to_string(), at)),
                }
            }
            c if is_word_char(c) => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                (Tok::Word(chars[i..j].iter().collect()), j)
            }
            other => return Err((other.to_string(), at)),
        };
        out.push(Spanned { tok, at });
        i = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_words_strings_and_operators() {
        let toks: Vec<Tok> =
            lex(r#"project in (WEB, "Ops X") AND updated >= '2024/01/31 13:05' order by key"#)
                .unwrap()
                .into_iter()
                .map(|s| s.tok)
                .collect();
        assert_eq!(toks[0], Tok::Word("project".into()));
        assert_eq!(toks[2], Tok::LParen);
        assert_eq!(toks[5], Tok::Quoted("Ops X".into()));
        assert_eq!(toks[9], Tok::Op(">="));
        assert_eq!(toks[10], Tok::Quoted("2024/01/31 13:05".into()));
    }

    #[test]
    fn positions_are_one_based_characters() {
        let toks = lex("key = ABC-1").unwrap();
        assert_eq!(toks.iter().map(|s| s.at).collect::<Vec<_>>(), [1, 5, 7]);
        assert_eq!(lex("key = \"open").unwrap_err().1, 7);
    }
}
