//! Mentions in a message's text: `@name` of a member, and `@room` for everyone in a
//! room. The server decides which names count (members only, `@room` for the room's
//! owner); this module only finds the candidates, so that the server's recognition and
//! the web app's highlighting read the text the same way.

use crate::protocol::MAX_USERNAME_CHARS;

/// The word that mentions a whole room.
pub const ROOM: &str = "room";

/// Whether `c` may be part of a username (the rules of `validate_username`).
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Each `@word` of `text` with its byte range (the `@` included): an `@` at the start
/// or after a character that cannot be part of a name (so `bob@example.org` is no
/// mention), followed by 1 to 32 name characters, trailing dots removed (the end of a
/// sentence). Longer runs are no mention.
pub fn candidates(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let mut prev: Option<char> = None;
    text.char_indices().filter_map(move |(i, c)| {
        let after_name = prev.is_some_and(is_name_char);
        prev = Some(c);
        if c != '@' || after_name {
            return None;
        }
        let rest = &text[i + 1..];
        let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        let word = rest[..end].trim_end_matches('.');
        let chars = word.chars().count();
        (chars > 0 && chars <= MAX_USERNAME_CHARS && !rest[end..].starts_with('@'))
            .then(|| (i..i + 1 + word.len(), word))
    })
}

/// Whether `text` has `@name` for `name` (in any case).
pub fn mentions_name(text: &str, name: &str) -> bool {
    let name = crate::case::lower(name);
    candidates(text).any(|(_, w)| crate::case::lower(w) == name)
}

/// The mention being typed at the caret (a byte offset): the byte offset of its `@`
/// and the name typed so far (perhaps empty). `None` when the caret is not in one.
pub fn typing_at(text: &str, caret: usize) -> Option<(usize, &str)> {
    let before = text.get(..caret)?;
    let at = before.rfind('@')?;
    let word = &before[at + 1..];
    if !word.chars().all(is_name_char) || word.chars().count() > MAX_USERNAME_CHARS {
        return None;
    }
    let start_ok = before[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !is_name_char(c));
    start_ok.then_some((at, word))
}

/// `text` with the mention typed at `at..caret` replaced by `@name ` and the caret
/// after it (byte offsets).
pub fn complete(text: &str, at: usize, caret: usize, name: &str) -> (String, usize) {
    let (head, tail) = (&text[..at], &text[caret.min(text.len())..]);
    let tail = tail.strip_prefix(' ').unwrap_or(tail);
    let inserted = format!("@{name} ");
    (format!("{head}{inserted}{tail}"), at + inserted.len())
}

/// A browser's caret (UTF-16 units) as a byte offset of `text`, and back.
pub fn utf16_to_byte(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    text.len()
}

pub fn byte_to_utf16(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |t| t.encode_utf16().count())
}

/// The people to offer for `typed`: those whose name starts with it (ignoring case),
/// then those that contain it, at most `max`.
pub fn matching<'a>(people: &'a [String], typed: &str, max: usize) -> Vec<&'a str> {
    let typed = crate::case::lower(typed);
    let lower: Vec<String> = people.iter().map(|p| crate::case::lower(p)).collect();
    let starts = people
        .iter()
        .zip(&lower)
        .filter(|(_, l)| l.starts_with(&typed));
    let contains = people
        .iter()
        .zip(&lower)
        .filter(|(_, l)| !l.starts_with(&typed) && l.contains(&typed));
    starts
        .chain(contains)
        .map(|(p, _)| p.as_str())
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mention_at_the_caret_and_its_completion() {
        let text = "hi @bo and";
        assert_eq!(typing_at(text, 6), Some((3, "bo")));
        assert_eq!(typing_at(text, 10), None);
        assert_eq!(typing_at("mail x@y", 8), None);
        assert_eq!(typing_at("@", 1), Some((0, "")));
        assert_eq!(complete(text, 3, 6, "bob"), ("hi @bob and".to_owned(), 8));
        assert_eq!(complete("@", 0, 1, "bob"), ("@bob ".to_owned(), 5));
    }

    #[test]
    fn carets_convert_between_utf16_and_bytes() {
        let text = "é🎉@b";
        assert_eq!(utf16_to_byte(text, 3), "é🎉".len());
        assert_eq!(byte_to_utf16(text, "é🎉@".len()), 4);
    }

    #[test]
    fn people_who_start_with_the_typed_name_come_first() {
        let people = vec!["Abby".to_owned(), "bob".into(), "Rob".into()];
        assert_eq!(matching(&people, "B", 8), ["bob", "Abby", "Rob"]);
        assert_eq!(matching(&people, "ro", 8), ["Rob"]);
        assert_eq!(matching(&people, "", 2), ["Abby", "bob"]);
    }

    fn words(text: &str) -> Vec<&str> {
        candidates(text).map(|(_, w)| w).collect()
    }

    #[test]
    fn finds_names_at_start_after_spaces_and_punctuation() {
        assert_eq!(
            words("@alice hi (@bob.) and @room!"),
            ["alice", "bob", "room"]
        );
    }

    #[test]
    fn an_address_or_a_bare_at_is_no_mention() {
        assert!(words("mail bob@example.org or @ or @@").is_empty());
    }

    #[test]
    fn a_name_longer_than_a_username_is_no_mention() {
        assert!(words(&format!("@{}", "a".repeat(33))).is_empty());
        assert_eq!(words(&format!("@{}", "a".repeat(32))).len(), 1);
    }

    #[test]
    fn ranges_cover_the_at_and_the_name() {
        let text = "hé @Bob.";
        let (range, word) = candidates(text).next().expect("a mention");
        assert_eq!(&text[range], "@Bob");
        assert_eq!(word, "Bob");
        assert!(mentions_name(text, "bob"));
    }
}
