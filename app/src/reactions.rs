//! Reactions and pins as the web app shows them, without any browser dependency: one
//! person's emoji toggled on a message's list (counted once per person), the label a
//! reaction button reads out, the quick row, and the picker's search over the emoji
//! table the server serves at `/api/emoji` (never compiled into the app).

use crate::protocol::{PinnedItem, Reaction};

/// The quick row of the "React" menu.
pub const QUICK: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/// Applies one `reaction` event to a message's reactions: `user` added (`add`) or took
/// back `emoji`. Idempotent, like the server: a person counts once per emoji.
pub fn apply(list: &mut Vec<Reaction>, emoji: &str, user: &str, add: bool) {
    let same = |u: &String| u.eq_ignore_ascii_case(user);
    match (list.iter().position(|r| r.emoji == emoji), add) {
        (Some(i), true) if list[i].users.iter().any(same) => {}
        (Some(i), true) => list[i].users.push(user.to_owned()),
        (Some(i), false) => {
            list[i].users.retain(|u| !same(u));
            if list[i].users.is_empty() {
                list.remove(i);
            }
        }
        (None, true) => list.push(Reaction {
            emoji: emoji.to_owned(),
            users: vec![user.to_owned()],
        }),
        (None, false) => {}
    }
}

/// Whether `me` is among those who put this reaction.
pub fn is_mine(r: &Reaction, me: &str) -> bool {
    r.users.iter().any(|u| u.eq_ignore_ascii_case(me))
}

/// What a reaction button says to a screen reader and on hover: `👍 2: alice, bob`.
pub fn label(r: &Reaction) -> String {
    format!("{} {}: {}", r.emoji, r.users.len(), r.users.join(", "))
}

/// One emoji of the picker: the emoji, its name and its shortcode (maybe empty).
pub type EmojiEntry = (String, String, String);

/// Parses the table of `/api/emoji`.
pub fn parse_table(json: &str) -> Result<Vec<EmojiEntry>, serde_json::Error> {
    serde_json::from_str(json)
}

/// The entries whose name or shortcode holds every word of `query` (any case), in
/// table order, at most `max`; an empty query matches everything.
pub fn search<'a>(table: &'a [EmojiEntry], query: &str, max: usize) -> Vec<&'a EmojiEntry> {
    let words: Vec<String> = query.split_whitespace().map(crate::case::lower).collect();
    table
        .iter()
        .filter(|(emoji, name, code)| {
            words.iter().all(|w| {
                crate::case::lower(name).contains(w.as_str())
                    || code.contains(w.as_str())
                    || emoji == w
            })
        })
        .take(max)
        .collect()
}

/// The first line of a pinned message, for the pinned list (a deleted or empty one
/// says so).
pub fn first_line(pin: &PinnedItem) -> String {
    if pin.message.deleted {
        return "This message was deleted.".into();
    }
    let line = pin.message.message.lines().next().unwrap_or("").trim();
    match (line.is_empty(), pin.message.attachments.first()) {
        (false, _) => line.chars().take(120).collect(),
        (true, Some(a)) if !a.filename.is_empty() => a.filename.clone(),
        (true, Some(_)) => "an attachment".into(),
        (true, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(emoji: &str, users: &[&str]) -> Reaction {
        Reaction {
            emoji: emoji.into(),
            users: users.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn a_person_counts_once_and_the_last_one_out_removes_the_emoji() {
        let mut list = Vec::new();
        apply(&mut list, "👍", "bob", true);
        apply(&mut list, "👍", "Bob", true);
        apply(&mut list, "👍", "carol", true);
        apply(&mut list, "🎉", "carol", true);
        assert_eq!(list, [r("👍", &["bob", "carol"]), r("🎉", &["carol"])]);
        assert_eq!(label(&list[0]), "👍 2: bob, carol");
        assert!(is_mine(&list[0], "BOB") && !is_mine(&list[1], "bob"));
        apply(&mut list, "🎉", "carol", false);
        apply(&mut list, "🎉", "carol", false);
        apply(&mut list, "👍", "bob", false);
        assert_eq!(list, [r("👍", &["carol"])]);
    }

    #[test]
    fn search_finds_by_every_word_of_the_name_or_the_shortcode() {
        let table = parse_table(
            r#"[["😀","grinning face","grinning"],["🎉","party popper","tada"],["👍","thumbs up","+1"]]"#,
        )
        .expect("table");
        let found = |q: &str| -> Vec<&str> {
            search(&table, q, 10)
                .into_iter()
                .map(|e| e.0.as_str())
                .collect()
        };
        assert_eq!(found("party"), ["🎉"]);
        assert_eq!(found("TADA"), ["🎉"]);
        assert_eq!(found("thumbs up"), ["👍"]);
        assert_eq!(found("face grin"), ["😀"]);
        assert_eq!(found("").len(), 3);
        assert!(found("boiler").is_empty());
        assert_eq!(search(&table, "", 2).len(), 2);
    }
}
