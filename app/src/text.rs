//! Pure text helpers of the web app: link detection, mentions, typing and receipt
//! wording, and which attachment URLs may be shown. No browser code, tested natively.

/// A piece of a message's text: plain text, or a link to render as `<a>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits `text` into plain text and `http(s)://` links. Trailing punctuation that
/// usually ends a sentence (`.`, `,`, `)` without a matching `(`, …) stays text.
/// Only `http` and `https` are ever links: `javascript:` and friends remain text.
pub fn split_links(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    while i < text.len() {
        if let Some(url_end) = link_at(text, i) {
            if plain_start < i {
                out.push(Segment::Text(text[plain_start..i].to_owned()));
            }
            out.push(Segment::Link(text[i..url_end].to_owned()));
            plain_start = url_end;
            i = url_end;
            continue;
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    if plain_start < text.len() {
        out.push(Segment::Text(text[plain_start..].to_owned()));
    }
    out
}

/// The end of the `http(s)://` link that starts at byte `i` of `text`, if one does:
/// at the start of the text or after a space or an opening bracket or quote, without
/// the sentence punctuation that follows it.
pub fn link_at(text: &str, i: usize) -> Option<usize> {
    let starts = |scheme: &str| {
        text.get(i..i + scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    };
    let scheme = if starts("https://") {
        8
    } else if starts("http://") {
        7
    } else {
        return None;
    };
    let at_boundary = i == 0
        || text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_whitespace() || "([<{\"'".contains(c));
    if !at_boundary {
        return None;
    }
    let end = text[i..]
        .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .map_or(text.len(), |n| i + n);
    let url_end = trim_url_end(&text[i..end]) + i;
    (url_end > i + scheme).then_some(url_end)
}

/// Length of `url` without trailing sentence punctuation.
fn trim_url_end(url: &str) -> usize {
    let mut end = url.len();
    while let Some(c) = url[..end].chars().next_back() {
        let drop = match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' => url[..end].matches('(').count() < url[..end].matches(')').count(),
            ']' => url[..end].matches('[').count() < url[..end].matches(']').count(),
            _ => false,
        };
        if !drop {
            break;
        }
        end -= c.len_utf8();
    }
    end
}

/// True when `text` mentions `@user` (case-insensitive, not inside a longer name).
pub fn mentions(text: &str, user: &str) -> bool {
    if user.is_empty() {
        return false;
    }
    let text = crate::case::lower(text);
    let needle = format!("@{}", crate::case::lower(user));
    let is_name_char = |c: char| c.is_alphanumeric() || "_-.".contains(c);
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_name_char(c));
        let after = text[end..].chars().next();
        // A sentence-ending dot after the name is fine ("thanks @bob.").
        let after_ok = match after {
            None => true,
            Some('.') => text[end + 1..]
                .chars()
                .next()
                .is_none_or(|c| !is_name_char(c)),
            Some(c) => !is_name_char(c),
        };
        if before_ok && after_ok {
            return true;
        }
        from = end;
    }
    false
}

/// "bob is typing…", "bob and carol are typing…", "bob, carol and dave are typing…".
pub fn typing_text(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        [a, b, c] => Some(format!("{a}, {b} and {c} are typing…")),
        _ => Some("Several people are typing…".to_owned()),
    }
}

/// An attachment URL the app may put in `src`/`href`: the server's own uploads, or
/// `http(s)` (attachments are stored as a client gave them, so never `javascript:`).
pub fn safe_url(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    let ok = (url.starts_with('/') && !url.starts_with("//"))
        || lower.starts_with("https://")
        || lower.starts_with("http://");
    ok.then_some(url)
}

/// Whether an attachment's image may load inline: only Parlor's own uploads
/// (`/uploads/NAME`, or the same on `own_origin`, the page's `scheme://host:port`).
/// Any other image URL is shown as a link: loading it would tell its server who reads
/// the chat and when (a tracking pixel), or send a request to another device on the
/// LAN from every viewer's browser.
pub fn is_own_upload(url: &str, own_origin: &str) -> bool {
    let path = if url.starts_with('/') {
        url
    } else {
        match url.strip_prefix(own_origin) {
            Some(rest) if !own_origin.is_empty() => rest,
            _ => return false,
        }
    };
    path.strip_prefix("/uploads/").is_some_and(|name| {
        !name.is_empty() && !name.contains(['/', '\\', '?', '#']) && !name.starts_with('.')
    })
}

/// "Seen by bob", "Seen by 3" with the names for a tooltip.
pub fn seen_by_text(names: &[String]) -> Option<(String, String)> {
    match names {
        [] => None,
        [one] => Some((format!("Seen by {one}"), format!("Seen by {one}"))),
        _ => Some((
            format!("Seen by {}", names.len()),
            format!("Seen by {}", names.join(", ")),
        )),
    }
}

/// A chat's name for people: `#General` → `General`; a username stays as it is.
pub fn chat_title(chat_id: &str) -> &str {
    chat_id.strip_prefix('#').unwrap_or(chat_id)
}

/// True when `chat_id` names a room.
pub fn is_room(chat_id: &str) -> bool {
    chat_id.starts_with('#')
}

/// A desktop notification's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
}

/// The notification for a new message from `sender` in `chat_id`, if it calls for one
/// at the chat's notification `level`: at `all`, a direct message or a room message
/// that mentions `me`; at `mentions`, only a message that mentions `me` or the room
/// (`mentioned`: what the server recognised; a `@me` in the text counts too); at
/// `none`, nothing. The body is the text cut to 140 characters.
pub fn alert(
    chat_id: &str,
    sender: &str,
    text: &str,
    me: &str,
    level: crate::protocol::NotifyLevel,
    mentioned: bool,
) -> Option<Alert> {
    use crate::protocol::NotifyLevel;
    let direct = !is_room(chat_id);
    let mentioned = mentioned || mentions(text, me);
    let wanted = match level {
        NotifyLevel::All => direct || mentioned,
        NotifyLevel::Mentions => mentioned,
        NotifyLevel::None => false,
    };
    if !wanted {
        return None;
    }
    let title = if direct {
        sender.to_owned()
    } else {
        format!("{sender} in {chat_id}")
    };
    let body = if text.is_empty() { "sent a file" } else { text };
    Some(Alert {
        title,
        body: body.chars().take(140).collect(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_parlors_own_uploads_load_inline() {
        use super::is_own_upload;
        let own = "http://parlor.local:8080";
        assert!(is_own_upload("/uploads/ab12.png", own));
        assert!(is_own_upload(
            "http://parlor.local:8080/uploads/ab12.png",
            own
        ));
        assert!(!is_own_upload("https://tracker.example/pixel.gif", own));
        assert!(!is_own_upload("http://192.168.1.1/uploads/x.png", own));
        assert!(!is_own_upload(
            "http://parlor.local:8080.evil.com/uploads/x.png",
            own
        ));
        assert!(!is_own_upload("//evil.com/uploads/x.png", own));
        assert!(!is_own_upload("/uploads/../api/admin", own));
        assert!(!is_own_upload("/uploads/", own));
        assert!(!is_own_upload("/api/uploads", own));
        assert!(!is_own_upload("/uploads/x.png?y", own));
        assert!(!is_own_upload("http://parlor.local:8080/uploads/x.png", ""));
    }

    use super::*;

    fn t(s: &str) -> Segment {
        Segment::Text(s.into())
    }
    fn l(s: &str) -> Segment {
        Segment::Link(s.into())
    }

    #[test]
    fn links_are_split_from_text() {
        assert_eq!(split_links("no links"), vec![t("no links")]);
        assert_eq!(
            split_links("see https://example.com/a?b=1, then http://x.org."),
            vec![
                t("see "),
                l("https://example.com/a?b=1"),
                t(", then "),
                l("http://x.org"),
                t(".")
            ]
        );
        assert_eq!(
            split_links("(https://en.wikipedia.org/wiki/Rust_(language))"),
            vec![
                t("("),
                l("https://en.wikipedia.org/wiki/Rust_(language)"),
                t(")")
            ]
        );
        assert_eq!(split_links("https://"), vec![t("https://")]);
        assert_eq!(split_links("HTTPS://A.B"), vec![l("HTTPS://A.B")]);
    }

    #[test]
    fn only_http_is_a_link_and_html_stays_text() {
        assert_eq!(
            split_links("javascript:alert(1)"),
            vec![t("javascript:alert(1)")]
        );
        assert_eq!(split_links("xhttps://a.b"), vec![t("xhttps://a.b")]);
        let html = "<img src=x onerror=alert(1)>";
        assert_eq!(split_links(html), vec![t(html)]);
        assert_eq!(
            split_links("<a href=\"https://a.b\">"),
            vec![t("<a href=\""), l("https://a.b"), t("\">")]
        );
    }

    #[test]
    fn links_keep_unicode_around_them() {
        assert_eq!(
            split_links("é https://a.b/ü ñ"),
            vec![t("é "), l("https://a.b/ü"), t(" ñ")]
        );
    }

    #[test]
    fn mentions_need_the_whole_name() {
        assert!(mentions("hi @Bob!", "bob"));
        assert!(mentions("@bob", "bob"));
        assert!(mentions("thanks @bob.", "bob"));
        assert!(!mentions("hi @bobby", "bob"));
        assert!(!mentions("mail bob@bob.org", "bob"));
        assert!(!mentions("hi bob", "bob"));
        assert!(mentions("@bobby and @bob", "bob"));
    }

    #[test]
    fn typing_wording() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(typing_text(&[]), None);
        assert_eq!(
            typing_text(&names(&["bob"])).as_deref(),
            Some("bob is typing…")
        );
        assert_eq!(
            typing_text(&names(&["bob", "carol"])).as_deref(),
            Some("bob and carol are typing…")
        );
        assert_eq!(
            typing_text(&names(&["a", "b", "c"])).as_deref(),
            Some("a, b and c are typing…")
        );
        assert_eq!(
            typing_text(&names(&["a", "b", "c", "d"])).as_deref(),
            Some("Several people are typing…")
        );
    }

    #[test]
    fn unsafe_urls_are_refused() {
        assert_eq!(safe_url("/uploads/a.png"), Some("/uploads/a.png"));
        assert_eq!(safe_url("https://x/a.png"), Some("https://x/a.png"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url(" JaVaScRiPt:alert(1)"), None);
        assert_eq!(safe_url("data:text/html,x"), None);
        assert_eq!(safe_url("//evil.example/x"), None);
    }

    #[test]
    fn seen_by_wording() {
        assert_eq!(seen_by_text(&[]), None);
        let one = seen_by_text(&["bob".into()]).unwrap();
        assert_eq!(one.0, "Seen by bob");
        let two = seen_by_text(&["bob".into(), "carol".into()]).unwrap();
        assert_eq!(two, ("Seen by 2".into(), "Seen by bob, carol".into()));
    }

    #[test]
    fn alerts_follow_the_notification_level() {
        use crate::protocol::NotifyLevel::{All, Mentions, None as Never};
        assert!(alert("bob", "bob", "hi", "al", Mentions, false).is_none());
        assert!(alert("bob", "bob", "hi @al", "al", Mentions, false).is_some());
        assert!(alert("#Club", "bob", "@room hi", "al", Mentions, true).is_some());
        assert!(alert("#Club", "bob", "hi", "al", All, true).is_some());
        assert!(alert("#Club", "bob", "hi @al", "al", Never, true).is_none());
        assert!(alert("bob", "bob", "hi", "al", Never, false).is_none());
    }

    #[test]
    fn alerts_for_direct_messages_and_mentions_only() {
        let alert = |c: &str, s: &str, t: &str, m: &str| {
            alert(c, s, t, m, crate::protocol::NotifyLevel::All, false)
        };
        let dm = alert("bob", "bob", "hi", "al").expect("a direct message");
        assert_eq!(dm.title, "bob");
        assert_eq!(dm.body, "hi");
        assert_eq!(alert("#General", "bob", "hi all", "al"), None);
        let mention = alert("#General", "bob", "hi @al", "al").expect("a mention");
        assert_eq!(mention.title, "bob in #General");
        let image = alert("bob", "bob", "", "al").expect("an image");
        assert_eq!(image.body, "sent a file");
        let long = alert("bob", "bob", &"é".repeat(200), "al").expect("long");
        assert_eq!(long.body.chars().count(), 140);
    }

    #[test]
    fn titles() {
        assert_eq!(chat_title("#General"), "General");
        assert_eq!(chat_title("bob"), "bob");
        assert!(is_room("#x"));
        assert!(!is_room("x"));
    }
}
