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
    let name = name.to_lowercase();
    candidates(text).any(|(_, w)| w.to_lowercase() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
