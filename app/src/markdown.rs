//! The small, safe Markdown of message text, written by hand so that the web bundle
//! stays small: `**bold**`, `*italic*` / `_italic_`, `~~strike~~`, `` `code` ``, fenced
//! code blocks with a language hint, `> ` quotes, `- ` / `* ` / `1. ` lists, links
//! (`[text](https://…)`, and bare `http(s)://` addresses as before).
//!
//! [`parse`] turns text into a small tree of [`Block`]s and [`Inline`]s, which the web
//! app renders to elements (never as HTML) and [`plain`] / [`dialect_text`] turn into
//! the plain text the seed dialects show. Text with no markup is one paragraph holding
//! the text as it is, so it renders exactly as before. The parse is linear in the text:
//! a marker with no closer is remembered as such (never searched for again), and quotes
//! and lists nest at most [`MAX_DEPTH`] deep (deeper, they stay text).

use crate::protocol::ReplyQuote;
use crate::text::link_at;

/// Deepest nesting of quotes and lists, and of emphasis inside emphasis.
pub const MAX_DEPTH: usize = 4;
/// Longest language hint of a code block (a longer one is not a hint: no label).
const MAX_LANG: usize = 24;

/// A block of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text, its line breaks kept.
    Para(Vec<Inline>),
    /// A fenced code block: its language hint (may be empty) and its lines, verbatim.
    Code {
        lang: String,
        code: String,
    },
    Quote(Vec<Block>),
    /// A list: `start` is the first number of an ordered list, `None` for bullets.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Em(Vec<Inline>),
    Strike(Vec<Inline>),
    Code(String),
    /// A link: `text` is the address itself for a bare link.
    Link {
        text: String,
        url: String,
    },
}

/// Parses a message's text.
pub fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.split('\n').collect();
    blocks(&lines, 0)
}

/// Whether `blocks` is a single paragraph of text without any markup, which renders
/// exactly as plain text did before formatting existed.
pub fn is_plain(blocks: &[Block]) -> bool {
    match blocks {
        [Block::Para(inlines)] => inlines.iter().all(|i| {
            matches!(i, Inline::Text(_)) || matches!(i, Inline::Link { text, url } if text == url)
        }),
        [] => true,
        _ => false,
    }
}

fn fence_of(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
    (ticks >= 3).then(|| (ticks, trimmed[ticks..].trim()))
}

/// The marker of a list item line: its number for an ordered one, and the rest.
fn list_item(line: &str) -> Option<(Option<u64>, &str)> {
    if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some((None, rest));
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = line[digits..]
        .strip_prefix(". ")
        .or_else(|| line[digits..].strip_prefix(") "))?;
    Some((line[..digits].parse().ok(), rest))
}

fn quote_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('>')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

fn blocks(lines: &[&str], depth: usize) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut i = 0;
    let flush = |para: &mut Vec<&str>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Para(inlines(&para.join("\n"), 0)));
            para.clear();
        }
    };
    while i < lines.len() {
        let line = lines[i];
        if let Some((ticks, lang)) = fence_of(line) {
            let close = lines[i + 1..]
                .iter()
                .position(|l| fence_of(l).is_some_and(|(t, rest)| t >= ticks && rest.is_empty()));
            if let Some(n) = close {
                flush(&mut para, &mut out);
                let lang =
                    if lang.chars().count() <= MAX_LANG && !lang.contains(char::is_whitespace) {
                        lang.to_owned()
                    } else {
                        String::new()
                    };
                out.push(Block::Code {
                    lang,
                    code: lines[i + 1..i + 1 + n].join("\n"),
                });
                i += n + 2;
                continue;
            }
        }
        if depth < MAX_DEPTH && quote_line(line).is_some() {
            flush(&mut para, &mut out);
            let mut inner = Vec::new();
            while let Some(rest) = lines.get(i).and_then(|l| quote_line(l)) {
                inner.push(rest);
                i += 1;
            }
            out.push(Block::Quote(blocks(&inner, depth + 1)));
            continue;
        }
        if depth < MAX_DEPTH {
            if let Some((start, _)) = list_item(line) {
                flush(&mut para, &mut out);
                let ordered = start.is_some();
                let mut items = Vec::new();
                while let Some((_, first)) = lines
                    .get(i)
                    .and_then(|l| list_item(l))
                    .filter(|(s, _)| s.is_some() == ordered)
                {
                    let mut item = vec![first];
                    i += 1;
                    // Lines indented by two spaces or more continue the item.
                    while let Some(rest) = lines.get(i).and_then(|l| l.strip_prefix("  ")) {
                        if rest.trim().is_empty() {
                            break;
                        }
                        item.push(rest);
                        i += 1;
                    }
                    items.push(blocks(&item, depth + 1));
                }
                out.push(Block::List { start, items });
                continue;
            }
        }
        para.push(line);
        i += 1;
    }
    flush(&mut para, &mut out);
    if out.len() > 1 {
        // Around other blocks, the blank lines that separate them are not text.
        out.retain_mut(|b| match b {
            Block::Para(inl) => {
                trim_blank(inl);
                !inl.is_empty()
            }
            _ => true,
        });
    }
    out
}

/// Drops the line breaks at both ends of a paragraph that sits next to other blocks.
fn trim_blank(inlines: &mut Vec<Inline>) {
    if let Some(Inline::Text(t)) = inlines.first_mut() {
        *t = t.trim_start_matches(['\n', '\r', ' ']).to_owned();
    }
    if let Some(Inline::Text(t)) = inlines.last_mut() {
        *t = t.trim_end_matches(['\n', '\r', ' ']).to_owned();
    }
    inlines.retain(|i| !matches!(i, Inline::Text(t) if t.is_empty()));
}

/// Emphasis markers, longest first.
const MARKERS: [&str; 4] = ["**", "~~", "*", "_"];

/// Parses inline markup. `depth` bounds emphasis inside emphasis.
fn inlines(text: &str, depth: usize) -> Vec<Inline> {
    let mut p = InlineParser {
        text,
        out: Vec::new(),
        plain_start: 0,
        no_closer_after: [usize::MAX; 4],
        code_runs: None,
    };
    p.run(depth);
    p.out
}

struct InlineParser<'a> {
    text: &'a str,
    out: Vec<Inline>,
    plain_start: usize,
    /// Per marker: a position after which no closer of that marker exists (searching
    /// again from any later opener would find nothing: keeps the parse linear).
    no_closer_after: [usize; 4],
    /// Every run of backticks: (length, position), sorted; made at the first one met.
    code_runs: Option<Vec<(usize, usize)>>,
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphanumeric)
}

impl InlineParser<'_> {
    fn run(&mut self, depth: usize) {
        let text = self.text;
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            let before = text[..i].chars().next_back();
            if let Some(end) = link_at(text, i) {
                self.push(i, end, |s| Inline::Link {
                    text: s.to_owned(),
                    url: s.to_owned(),
                });
                i = end;
                continue;
            }
            if rest.starts_with('`') {
                let run = rest.len() - rest.trim_start_matches('`').len();
                if let Some(close) = self.code_close(i + run, run) {
                    let code = &text[i + run..close];
                    self.flush_text(i);
                    self.out.push(Inline::Code(code.to_owned()));
                    i = close + run;
                    self.plain_start = i;
                } else {
                    i += run;
                }
                continue;
            }
            if rest.starts_with('[') {
                if let Some((label, url, end)) = md_link(rest) {
                    self.flush_text(i);
                    self.out.push(Inline::Link {
                        text: label.to_owned(),
                        url: url.to_owned(),
                    });
                    i += end;
                    self.plain_start = i;
                    continue;
                }
            }
            if depth < MAX_DEPTH && !is_word(before) {
                if let Some(k) = MARKERS.iter().position(|m| rest.starts_with(m)) {
                    let m = MARKERS[k];
                    let after = rest[m.len()..].chars().next();
                    if after.is_some_and(|c| !c.is_whitespace()) && !rest[m.len()..].starts_with(m)
                    {
                        if let Some(close) = self.closer(k, i + m.len()) {
                            let inner = inlines(&text[i + m.len()..close], depth + 1);
                            self.flush_text(i);
                            self.out.push(match m {
                                "**" => Inline::Strong(inner),
                                "~~" => Inline::Strike(inner),
                                _ => Inline::Em(inner),
                            });
                            i = close + m.len();
                            self.plain_start = i;
                            continue;
                        }
                    }
                    i += m.len();
                    continue;
                }
            }
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
        self.flush_text(text.len());
    }

    /// The closer of marker `k` at or after `from`: preceded by a non-space, not
    /// followed by a letter or digit, not inside a code span.
    fn closer(&mut self, k: usize, from: usize) -> Option<usize> {
        if from >= self.no_closer_after[k] {
            return None;
        }
        let m = MARKERS[k];
        let text = self.text;
        let mut j = from;
        while j < text.len() {
            let rest = &text[j..];
            if rest.starts_with('`') {
                let run = rest.len() - rest.trim_start_matches('`').len();
                match self.code_close(j + run, run) {
                    Some(c) => j = c + run,
                    None => j += run,
                }
                continue;
            }
            if rest.starts_with(m) && j > from {
                // In a longer run of the marker's character (`***`), the closer is its end.
                let ch = m.as_bytes()[0] as char;
                let run = rest.len() - rest.trim_start_matches(ch).len();
                if m.len() > 1 && run > m.len() {
                    j += run - m.len();
                    continue;
                }
                let prev = text[..j].chars().next_back();
                let next = rest[m.len()..].chars().next();
                let doubled = m.len() == 1 && (rest[1..].starts_with(m) || text[..j].ends_with(m));
                if prev.is_some_and(|c| !c.is_whitespace()) && !is_word(next) && !doubled {
                    return Some(j);
                }
            }
            j += rest.chars().next().map_or(1, char::len_utf8);
        }
        self.no_closer_after[k] = self.no_closer_after[k].min(from);
        None
    }

    /// Where a run of exactly `run` backticks starts at or after `from`. Every run of
    /// the text is listed once, sorted by length then position, and searched in it.
    fn code_close(&mut self, from: usize, run: usize) -> Option<usize> {
        let text = self.text;
        let runs = self.code_runs.get_or_insert_with(|| {
            let mut runs = Vec::new();
            let mut j = 0;
            while let Some(n) = text[j..].find('`') {
                let at = j + n;
                let len = text[at..].len() - text[at..].trim_start_matches('`').len();
                runs.push((len, at));
                j = at + len;
            }
            runs.sort_unstable();
            runs
        });
        let k = runs.partition_point(|&r| r < (run, from));
        runs.get(k).filter(|r| r.0 == run).map(|r| r.1)
    }

    fn flush_text(&mut self, upto: usize) {
        if self.plain_start < upto {
            let t = &self.text[self.plain_start..upto];
            match self.out.last_mut() {
                Some(Inline::Text(prev)) => prev.push_str(t),
                _ => self.out.push(Inline::Text(t.to_owned())),
            }
        }
        self.plain_start = upto;
    }

    fn push(&mut self, start: usize, end: usize, make: impl FnOnce(&str) -> Inline) {
        self.flush_text(start);
        self.out.push(make(&self.text[start..end]));
        self.plain_start = end;
    }
}

/// `[label](url)` at the start of `s`, with an `http`, `https` or `mailto` address and
/// no line break: the label, the address and the length taken.
fn md_link(s: &str) -> Option<(&str, &str, usize)> {
    let close = s.find(']')?;
    let label = &s[1..close];
    if label.is_empty() || label.contains(['\n', '[']) {
        return None;
    }
    let rest = s[close + 1..].strip_prefix('(')?;
    let end = rest.find(')')?;
    let url = &rest[..end];
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let allowed = (lower.starts_with("https://") && url.len() > 8)
        || (lower.starts_with("http://") && url.len() > 7)
        || (lower.starts_with("mailto:") && url.len() > 7);
    if !allowed || url.contains(char::is_whitespace) || url.contains(['<', '>', '"']) {
        return None;
    }
    Some((label, url, close + 2 + end + 1))
}

/// A message's text without its Markdown markers: emphasis markers go, code keeps its
/// backticks and fences, links read "text (url)", quotes keep `> ` and lists their
/// markers. What the seed dialects show.
pub fn plain(text: &str) -> String {
    let mut out = String::new();
    plain_blocks(&parse(text), "", &mut out);
    out
}

fn plain_blocks(blocks: &[Block], prefix: &str, out: &mut String) {
    for (n, block) in blocks.iter().enumerate() {
        if n > 0 {
            out.push('\n');
            out.push_str(prefix);
        }
        match block {
            Block::Para(inl) => {
                let mut s = String::new();
                plain_inlines(inl, &mut s);
                push_prefixed(out, &s, prefix);
            }
            Block::Code { lang, code } => {
                let s = format!("```{lang}\n{code}\n```");
                push_prefixed(out, &s, prefix);
            }
            Block::Quote(inner) => {
                out.push_str("> ");
                plain_blocks(inner, &format!("{prefix}> "), out);
            }
            Block::List { start, items } => {
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push('\n');
                        out.push_str(prefix);
                    }
                    match start {
                        Some(s) => out.push_str(&format!("{}. ", s + k as u64)),
                        None => out.push_str("- "),
                    }
                    plain_blocks(item, &format!("{prefix}  "), out);
                }
            }
        }
    }
}

fn push_prefixed(out: &mut String, s: &str, prefix: &str) {
    for (k, line) in s.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
            out.push_str(prefix);
        }
        out.push_str(line);
    }
}

fn plain_inlines(inlines: &[Inline], out: &mut String) {
    for i in inlines {
        match i {
            Inline::Text(t) => out.push_str(t),
            Inline::Strong(c) | Inline::Em(c) | Inline::Strike(c) => plain_inlines(c, out),
            Inline::Code(c) => {
                let ticks = if c.contains('`') { "``" } else { "`" };
                out.push_str(ticks);
                out.push_str(c);
                out.push_str(ticks);
            }
            Inline::Link { text, url } if text == url => out.push_str(url),
            Inline::Link { text, url } => {
                out.push_str(text);
                out.push_str(" (");
                out.push_str(url);
                out.push(')');
            }
        }
    }
}

/// The first line of a message as a reply's quote shows it: the first line that is
/// neither blank nor a code fence, its inline markers removed.
pub fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && fence_of(l).is_none())
        .unwrap_or("");
    let mut out = String::new();
    plain_inlines(&inlines(line, 0), &mut out);
    out
}

/// What a dialect client is sent for a message: [`plain`], opened for a reply by a
/// one-line quote of the original (`> alice: first line`, or `> (deleted message)`).
pub fn dialect_text(text: &str, quote: Option<&ReplyQuote>) -> String {
    let body = plain(text);
    match quote {
        None => body,
        Some(q) if q.deleted => format!("> (deleted message)\n{body}"),
        Some(q) => format!("> {}: {}\n{body}", q.sender, q.excerpt),
    }
}

#[cfg(test)]
mod tests;
