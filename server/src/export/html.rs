//! The HTML form of an export: one self-contained page to read in any browser, offline
//! (inline CSS, light and dark after `prefers-color-scheme`, no script, nothing
//! fetched). A list of the chats, then per chat a heading, its members and pins, and
//! its messages in order: author, time, text, edits, replies, reactions and files.
//! Written as it is read, like the JSON form.
//!
//! Everything taken from the database is HTML-escaped (`html-escape`), the text of a
//! message as it was typed: its Markdown is shown as plain text, never rendered, so
//! that nobody's message can put markup or a script into the page.

use super::{ChatHead, Counted, ExportMessage, Head, Scope, Sink};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use std::io::{self, Write};

const STYLE: &str = "
:root { color-scheme: light dark; --bg: #fff; --fg: #1d1d1f; --muted: #6b6b70;
  --line: #e3e3e6; --card: #f5f5f7; --accent: #2f6feb; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #161618; --fg: #ececee; --muted: #a0a0a8; --line: #2c2c30;
    --card: #212125; --accent: #7aa7ff; }
}
body { background: var(--bg); color: var(--fg); margin: 0 auto; max-width: 52rem;
  padding: 1.5rem 1rem 4rem; font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; }
a { color: var(--accent); }
header p, .meta, time, .edited, .reply, .files, .reactions { color: var(--muted); font-size: .875rem; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2.5rem; }
ol.messages { list-style: none; padding: 0; }
ol.messages > li { padding: .5rem .75rem; border-radius: .5rem; margin: .25rem 0; }
ol.messages > li:target { background: var(--card); }
.author { font-weight: 600; margin-right: .5rem; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.deleted { color: var(--muted); font-style: italic; }
.files, .reactions { margin: .25rem 0 0; padding: 0; list-style: none; }
.reactions li { display: inline-block; background: var(--card); border-radius: 1rem;
  padding: 0 .5rem; margin-right: .25rem; }
code { background: var(--card); padding: 0 .25rem; border-radius: .25rem; }
";

/// Writes the HTML page to `out`.
pub struct HtmlSink<W: Write> {
    out: Counted<W>,
    /// Chats begun so far (each section's id is its place in the list).
    chats: usize,
}

impl<W: Write> HtmlSink<W> {
    pub fn new(out: Counted<W>) -> HtmlSink<W> {
        HtmlSink { out, chats: 0 }
    }
}

/// The id of the section of the chat at `index` in the list: `chat-0`.
fn anchor(index: usize) -> String {
    format!("chat-{index}")
}

/// `2026-11-30 13:05 UTC` from `2026-11-30T13:05:09.123Z`.
fn readable(time: &str) -> String {
    match time.get(..16) {
        Some(minutes) if time.len() >= 16 => format!("{} UTC", minutes.replacen('T', " ", 1)),
        _ => time.to_owned(),
    }
}

impl<W: Write> Sink for HtmlSink<W> {
    fn start(&mut self, head: &Head, chats: &[ChatHead]) -> io::Result<()> {
        let what = match &head.scope {
            Scope::Everything => "every room and direct chat".to_owned(),
            Scope::Room(name) => format!("the room #{name}"),
        };
        write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n\
             <title>Parlor export of {what_t}, {at}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <header>\n<h1>Parlor export</h1>\n<p>Of {what_t}, exported {at} by Parlor {parlor} \
             (export version {version}). It holds everyone's messages: keep it safe.</p>\n",
            what_t = text(&what),
            at = text(&readable(&head.exported_at)),
            parlor = text(&head.parlor),
            version = head.version,
        )?;
        if chats.len() > 1 {
            self.out.write_all(b"<nav>\n<ul>\n")?;
            for (i, chat) in chats.iter().enumerate() {
                writeln!(
                    self.out,
                    "<li><a href=\"#{}\">{}</a> ({})</li>",
                    anchor(i),
                    text(&chat.title()),
                    crate::progress::count(chat.message_count, "message"),
                )?;
            }
            self.out.write_all(b"</ul>\n</nav>\n")?;
        }
        self.out.write_all(b"</header>\n<main>\n")
    }

    fn begin_chat(&mut self, chat: &ChatHead) -> io::Result<()> {
        let index = self.chats;
        self.chats += 1;
        writeln!(
            self.out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            anchor(index),
            text(&chat.title())
        )?;
        let mut meta = Vec::new();
        if let Some(created) = &chat.created {
            match &chat.creator {
                Some(by) => meta.push(format!(
                    "Created by {} on {}.",
                    text(by),
                    text(&readable(created))
                )),
                None => meta.push(format!("Created on {}.", text(&readable(created)))),
            }
        }
        if !chat.members.is_empty() && !chat.is_direct() {
            let names: Vec<String> = chat.members.iter().map(|m| text(m).into_owned()).collect();
            meta.push(format!("Members: {}.", names.join(", ")));
        }
        if !chat.pins.is_empty() {
            let pins: Vec<String> = chat
                .pins
                .iter()
                .map(|p| {
                    format!(
                        "<a href=\"#m-{id}\">message {id}</a> (by {})",
                        text(&p.by),
                        id = p.message
                    )
                })
                .collect();
            meta.push(format!("Pinned: {}.", pins.join(", ")));
        }
        if !meta.is_empty() {
            writeln!(self.out, "<p class=\"meta\">{}</p>", meta.join(" "))?;
        }
        self.out.write_all(b"<ol class=\"messages\">\n")
    }

    fn message(&mut self, m: &ExportMessage) -> io::Result<()> {
        write!(
            self.out,
            "<li id=\"m-{id}\"><span class=\"author\">{author}</span> \
             <time datetime=\"{datetime}\">{time}</time>",
            id = m.id,
            author = text(&m.author),
            datetime = attr(&m.time),
            time = text(&readable(&m.time)),
        )?;
        if m.deleted {
            return self
                .out
                .write_all(b"<div class=\"deleted\">message deleted</div></li>\n");
        }
        if let Some(edited) = &m.edited {
            write!(
                self.out,
                " <span class=\"edited\">(edited {})</span>",
                text(&readable(edited))
            )?;
        }
        if let Some(to) = m.reply_to {
            write!(
                self.out,
                "<div class=\"reply\">↪ in reply to <a href=\"#m-{to}\">message {to}</a></div>"
            )?;
        }
        if let Some(body) = &m.text {
            write!(self.out, "<div class=\"text\">{}</div>", text(body))?;
        }
        if !m.attachments.is_empty() {
            self.out.write_all(b"<ul class=\"files\">")?;
            for a in &m.attachments {
                let size = a.size.map(crate::progress::size).unwrap_or_default();
                write!(
                    self.out,
                    "<li>📎 {} ({}{}{}) <code>{}</code></li>",
                    text(&a.name),
                    text(&a.kind),
                    if size.is_empty() { "" } else { ", " },
                    text(&size),
                    text(&a.url),
                )?;
            }
            self.out.write_all(b"</ul>")?;
        }
        if !m.reactions.is_empty() {
            self.out.write_all(b"<ul class=\"reactions\">")?;
            for (emoji, names) in &m.reactions {
                write!(
                    self.out,
                    "<li>{} {}</li>",
                    text(emoji),
                    text(&names.join(", "))
                )?;
            }
            self.out.write_all(b"</ul>")?;
        }
        self.out.write_all(b"</li>\n")
    }

    fn end_chat(&mut self) -> io::Result<()> {
        self.out.write_all(b"</ol>\n</section>\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(b"</main>\n</body>\n</html>\n")?;
        self.out.flush()
    }

    fn written(&self) -> u64 {
        self.out.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup in a message, a name or a room's name comes out as text: no element,
    /// no attribute can be made by what people typed.
    #[test]
    fn what_people_typed_is_escaped() {
        let head = Head {
            format: "parlor-export",
            version: 1,
            exported_at: "2026-11-30T10:00:00Z".into(),
            parlor: "0.1.0".into(),
            schema: 11,
            scope: Scope::Room("<b>Den</b>".into()),
        };
        let chat = ChatHead {
            key: "r:2".into(),
            name: Some("<b>Den</b>".into()),
            creator: Some("<i>eve</i>".into()),
            created: Some("2026-11-30T10:00:00Z".into()),
            members: vec!["<i>eve</i>".into()],
            pins: Vec::new(),
            message_count: 1,
        };
        let message = ExportMessage {
            id: 7,
            author: "\"><img src=x onerror=alert(1)>".into(),
            time: "2026-11-30T10:00:00.000Z".into(),
            deleted: false,
            text: Some("<script>alert('x')</script> & **bold**".into()),
            edited: None,
            reply_to: None,
            reactions: vec![("<👍>".into(), vec!["<u>bob</u>".into()])],
            attachments: vec![super::super::ExportAttachment {
                name: "<a>.pdf".into(),
                kind: "application/pdf".into(),
                size: Some(2048),
                url: "/uploads/x.pdf".into(),
            }],
        };
        let mut out = Vec::new();
        let mut sink = HtmlSink::new(Counted::new(&mut out));
        sink.start(&head, std::slice::from_ref(&chat))
            .expect("start");
        sink.begin_chat(&chat).expect("chat");
        sink.message(&message).expect("message");
        sink.end_chat().expect("end");
        sink.finish().expect("finish");
        let page = String::from_utf8(out).expect("utf-8");
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; **bold**"),
            "{page}"
        );
        for raw in ["<b>", "<i>", "<img", "<u>", "<a>", "<👍>"] {
            assert!(!page.contains(raw), "{raw} in {page}");
        }
        assert!(page.contains("<h2>#&lt;b&gt;Den&lt;/b&gt;</h2>"), "{page}");
        assert!(page.contains("2.0 KB"), "{page}");
        assert!(page.ends_with("</html>\n"));
    }
}
