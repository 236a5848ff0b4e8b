//! Message search, the pure part shared by the server and the web app: the query a
//! person types (`boiler from:alice in:#general "hot water"`) read into words and
//! filters ([`parse_query`]), and where those words occur in a found message's text
//! ([`highlights`]), as character ranges the web app wraps in `<mark>`.
//!
//! Words are matched the way the server's index matches them: split at anything that
//! is not a letter or a digit, compared without case and without diacritics (`Café`
//! finds `cafe`). The last bare word of a query of at least [`MIN_PREFIX_CHARS`]
//! characters also finds the words it begins (`boil` finds `boiler`), so that results
//! follow the typing.

use std::fmt;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longest query, in bytes.
pub const MAX_QUERY_BYTES: usize = 256;
/// Most words and quoted phrases in one query (filters not counted).
pub const MAX_QUERY_TERMS: usize = 8;
/// Most hits one `search` answers (and the default `limit`: 20).
pub const MAX_SEARCH_PAGE: u32 = 50;
/// Hits a `search` answers when it names no `limit`.
pub const DEFAULT_SEARCH_PAGE: u32 = 20;
/// The last bare word is a prefix when it has at least this many letters or digits.
pub const MIN_PREFIX_CHARS: usize = 3;

/// One word or quoted phrase to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// As typed (without the quotes); holds at least one letter or digit.
    pub text: String,
    /// Written in quotes: its words must follow each other.
    pub phrase: bool,
    /// Its last word also finds longer words that begin with it.
    pub prefix: bool,
}

/// Where `in:` restricts a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchIn {
    /// `in:#name`: a room.
    Room(String),
    /// `in:name`: the direct chat with that person.
    Direct(String),
}

/// A query read into what to find and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub terms: Vec<Term>,
    /// `from:name`: only messages this person sent.
    pub from: Option<String>,
    pub chat: Option<SearchIn>,
}

/// Why a query cannot be searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    TooManyTerms,
    /// No word with a letter or a digit (filters alone find nothing).
    NoWords,
    /// `from:` or `in:` without a name.
    EmptyFilter(&'static str),
    /// `from:` or `in:` twice.
    Repeated(&'static str),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::TooLong => write!(f, "a search has at most {MAX_QUERY_BYTES} bytes"),
            QueryError::TooManyTerms => {
                write!(f, "a search has at most {MAX_QUERY_TERMS} words or phrases")
            }
            QueryError::NoWords => write!(f, "type a word to search for"),
            QueryError::EmptyFilter(which) => write!(f, "{which} needs a name after it"),
            QueryError::Repeated(which) => write!(f, "{which} can be given once"),
        }
    }
}

impl std::error::Error for QueryError {}

/// Whether `c` belongs to a word (letters, digits, and the marks that accent them).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Reads a query: words, `"quoted phrases"`, `from:NAME` (an `@` before the name is
/// allowed) and `in:#room` or `in:NAME`. Words without a letter or a digit (`*`, `(`,
/// a lone `"`) are dropped: they could never match.
pub fn parse_query(query: &str) -> Result<ParsedQuery, QueryError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong);
    }
    let mut parsed = ParsedQuery::default();
    let mut rest = query;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first == '"' {
            let body = &rest[1..];
            let (text, after) = match body.find('"') {
                Some(end) => (&body[..end], &body[end + 1..]),
                None => (body, ""),
            };
            push_term(&mut parsed, text, true)?;
            rest = after;
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if let Some(name) = strip_filter(word, "from:") {
            let name = name.strip_prefix('@').unwrap_or(name);
            if name.is_empty() {
                return Err(QueryError::EmptyFilter("from:"));
            }
            if parsed.from.replace(name.to_owned()).is_some() {
                return Err(QueryError::Repeated("from:"));
            }
        } else if let Some(name) = strip_filter(word, "in:") {
            let chat = match name.strip_prefix('#') {
                Some(room) if !room.is_empty() => SearchIn::Room(room.to_owned()),
                Some(_) => return Err(QueryError::EmptyFilter("in:")),
                None if name.is_empty() => return Err(QueryError::EmptyFilter("in:")),
                None => SearchIn::Direct(name.to_owned()),
            };
            if parsed.chat.replace(chat).is_some() {
                return Err(QueryError::Repeated("in:"));
            }
        } else {
            push_term(&mut parsed, word, false)?;
        }
    }
    if parsed.terms.is_empty() {
        return Err(QueryError::NoWords);
    }
    if let Some(last) = parsed.terms.last_mut() {
        last.prefix = !last.phrase
            && last_word(&last.text).is_some_and(|w| w.chars().count() >= MIN_PREFIX_CHARS);
    }
    Ok(parsed)
}

/// The name after `prefix` (any case), if `word` starts with it.
fn strip_filter<'a>(word: &'a str, prefix: &str) -> Option<&'a str> {
    let head = word.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &word[prefix.len()..])
}

fn push_term(parsed: &mut ParsedQuery, text: &str, phrase: bool) -> Result<(), QueryError> {
    if !text.chars().any(is_word_char) {
        return Ok(());
    }
    if parsed.terms.len() >= MAX_QUERY_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    parsed.terms.push(Term {
        text: text.to_owned(),
        phrase,
        prefix: false,
    });
    Ok(())
}

fn last_word(text: &str) -> Option<&str> {
    text.split(|c: char| !is_word_char(c))
        .rfind(|w| !w.is_empty())
}

/// A word as compared: lower case, without diacritics.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of `text`: (first character, end character, folded word), in order.
fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut word = String::new();
    let mut count = 0;
    for (i, c) in text.chars().enumerate() {
        count = i + 1;
        if is_word_char(c) {
            start.get_or_insert(i);
            word.push(c);
        } else if let Some(s) = start.take() {
            out.push((s, i, fold(&word)));
            word.clear();
        }
    }
    if let Some(s) = start {
        out.push((s, count, fold(&word)));
    }
    out
}

/// Where the terms occur in `text`: sorted, non-overlapping `[start, end)` ranges of
/// **character** (Unicode scalar value) offsets. A phrase is one range from its first
/// word to its last.
pub fn highlights(text: &str, terms: &[Term]) -> Vec<[u32; 2]> {
    let found = words(text);
    let mut ranges: Vec<[u32; 2]> = Vec::new();
    for term in terms {
        let wanted: Vec<String> = words(&term.text).into_iter().map(|w| w.2).collect();
        let Some(last) = wanted.len().checked_sub(1) else {
            continue;
        };
        for run in found.windows(wanted.len()) {
            let hit = run.iter().zip(&wanted).enumerate().all(|(i, (w, t))| {
                if i == last && term.prefix {
                    w.2.starts_with(t.as_str())
                } else {
                    w.2 == *t
                }
            });
            if hit {
                ranges.push([run[0].0 as u32, run[last].1 as u32]);
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<[u32; 2]> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(prev) if r[0] <= prev[1] => prev[1] = prev[1].max(r[1]),
            _ => merged.push(r),
        }
    }
    merged
}

/// Splits `text` at `ranges` (character offsets, as [`highlights`] answers them) into
/// pieces and whether each is highlighted; ranges out of order or past the end are
/// clamped, never a panic.
pub fn split_highlights(text: &str, ranges: &[[u32; 2]]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0usize;
    for r in ranges {
        let start = (r[0] as usize).clamp(at, chars.len());
        let end = (r[1] as usize).clamp(start, chars.len());
        if start > at {
            out.push((chars[at..start].iter().collect(), false));
        }
        if end > start {
            out.push((chars[start..end].iter().collect(), true));
        }
        at = end;
    }
    if at < chars.len() {
        out.push((chars[at..].iter().collect(), false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str, phrase: bool, prefix: bool) -> Term {
        Term {
            text: text.into(),
            phrase,
            prefix,
        }
    }

    #[test]
    fn words_and_filters() {
        let q = parse_query("boiler from:alice in:#general").expect("parses");
        assert_eq!(q.terms, vec![term("boiler", false, true)]);
        assert_eq!(q.from.as_deref(), Some("alice"));
        assert_eq!(q.chat, Some(SearchIn::Room("general".into())));
        let q = parse_query("FROM:@Bob IN:carol hot water").expect("parses");
        assert_eq!(q.from.as_deref(), Some("Bob"));
        assert_eq!(q.chat, Some(SearchIn::Direct("carol".into())));
        assert_eq!(
            q.terms,
            vec![term("hot", false, false), term("water", false, true)]
        );
    }

    #[test]
    fn quoted_phrases_are_exact_and_an_open_quote_runs_to_the_end() {
        let q = parse_query(r#""hot water" tank"#).expect("parses");
        assert_eq!(
            q.terms,
            vec![term("hot water", true, false), term("tank", false, true)]
        );
        let q = parse_query(r#"tank "hot wat"#).expect("parses");
        assert_eq!(
            q.terms,
            vec![term("tank", false, false), term("hot wat", true, false)]
        );
    }

    #[test]
    fn short_last_words_are_not_prefixes() {
        let q = parse_query("go ab").expect("parses");
        assert_eq!(q.terms[1], term("ab", false, false));
    }

    #[test]
    fn hostile_queries_are_words_or_clear_errors() {
        for q in ["\"", "*", "NEAR(", "(", ")", "-", "^", "\"\"", "   ", ""] {
            let parsed = parse_query(q);
            assert!(
                matches!(parsed, Err(QueryError::NoWords)) || parsed.is_ok(),
                "{q:?}: {parsed:?}"
            );
        }
        let q = parse_query("NEAR(a b) OR c*").expect("parses");
        assert_eq!(q.terms.len(), 4);
        assert_eq!(
            parse_query("from: x"),
            Err(QueryError::EmptyFilter("from:"))
        );
        assert_eq!(parse_query("in:# x"), Err(QueryError::EmptyFilter("in:")));
        assert_eq!(
            parse_query("from:a from:b x"),
            Err(QueryError::Repeated("from:"))
        );
        assert_eq!(parse_query("from:alice"), Err(QueryError::NoWords));
        assert_eq!(parse_query(&"a ".repeat(9)), Err(QueryError::TooManyTerms));
        assert_eq!(
            parse_query(&"a".repeat(MAX_QUERY_BYTES + 1)),
            Err(QueryError::TooLong)
        );
    }

    #[test]
    fn highlights_are_character_offsets_without_case_or_accents() {
        // "Ça" is two characters and three bytes: offsets count characters.
        let text = "Ça va? Le CAFÉ est prêt, café!";
        let q = parse_query("cafe").expect("parses");
        let h = highlights(text, &q.terms);
        let chars: Vec<char> = text.chars().collect();
        let marked: Vec<String> = h
            .iter()
            .map(|r| chars[r[0] as usize..r[1] as usize].iter().collect())
            .collect();
        assert_eq!(marked, vec!["CAFÉ", "café"]);
        assert_eq!(h[0], [10, 14]);
    }

    #[test]
    fn phrases_and_prefixes_highlight_whole_runs() {
        let text = "the boilers need hot  water; hot tea";
        let q = parse_query(r#""hot water" boil"#).expect("parses");
        let h = highlights(text, &q.terms);
        assert_eq!(h, vec![[4, 11], [17, 27]]);
        assert_eq!(
            split_highlights(text, &h),
            vec![
                ("the ".to_string(), false),
                ("boilers".to_string(), true),
                (" need ".to_string(), false),
                ("hot  water".to_string(), true),
                ("; hot tea".to_string(), false),
            ]
        );
    }

    #[test]
    fn split_never_panics_on_bad_ranges() {
        assert_eq!(
            split_highlights("abc", &[[2, 1], [5, 9], [0, 2]]),
            vec![("ab".to_string(), false), ("c".to_string(), false)]
        );
        assert_eq!(
            split_highlights("日本語", &[[1, 2]]),
            vec![
                ("日".to_string(), false),
                ("本".to_string(), true),
                ("語".to_string(), false)
            ]
        );
    }
}
