//! The JSON form of an export: one document, written as it is read. Its shape (see
//! `docs/backup.md`, "Export"):
//!
//! ```text
//! {"format":"parlor-export","version":1,"exported_at":…,"parlor":…,"schema":…,"scope":…,
//!  "rooms":[{"name":…,"creator":…,"created":…,"members":[…],"pins":[…],"messages":[
//!    {"id":1,"author":…,"time":…,"text":…,…},
//!    …]}, …],
//!  "direct":[{"members":[…],"pins":[…],"messages":[…]}, …]}
//! ```
//!
//! serde_json writes each piece (the head, each chat's head, each message); this file
//! writes the brackets between them, so no more than one message is ever held. One
//! message per line keeps a large export readable with `grep` and `less`.

use super::{ChatHead, Counted, ExportMessage, Head, Sink};
use std::io::{self, Write};

/// Writes the JSON document to `out`.
pub struct JsonSink<W: Write> {
    out: Counted<W>,
    /// The direct chats' array has begun.
    in_direct: bool,
    /// A message was written in the current chat (the next needs a comma).
    had_message: bool,
    /// A chat was written in the current array.
    had_chat: bool,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: Counted<W>) -> JsonSink<W> {
        JsonSink {
            out,
            in_direct: false,
            had_message: false,
            had_chat: false,
        }
    }

    fn begin_direct(&mut self) -> io::Result<()> {
        self.in_direct = true;
        self.had_chat = false;
        self.out.write_all(b"\n],\n\"direct\": [")
    }
}

/// `value` as a JSON object without its closing brace, so that fields can follow.
fn open_object<T: serde::Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(value)?;
    match bytes.pop() {
        Some(b'}') => {}
        _ => return Err(io::Error::other("a JSON object was expected")),
    }
    if bytes.len() > 1 {
        bytes.push(b',');
    }
    Ok(bytes)
}

impl<W: Write> Sink for JsonSink<W> {
    fn start(&mut self, head: &Head, _chats: &[ChatHead]) -> io::Result<()> {
        let head = open_object(head)?;
        self.out.write_all(&head)?;
        self.out.write_all(b"\n\"rooms\": [")
    }

    fn begin_chat(&mut self, chat: &ChatHead) -> io::Result<()> {
        if chat.is_direct() && !self.in_direct {
            self.begin_direct()?;
        }
        if self.had_chat {
            self.out.write_all(b",")?;
        }
        self.had_chat = true;
        self.had_message = false;
        self.out.write_all(b"\n")?;
        let head = open_object(chat)?;
        self.out.write_all(&head)?;
        self.out.write_all(b"\"messages\": [")
    }

    fn message(&mut self, message: &ExportMessage) -> io::Result<()> {
        if self.had_message {
            self.out.write_all(b",")?;
        }
        self.had_message = true;
        self.out.write_all(b"\n  ")?;
        serde_json::to_writer(&mut self.out, message)?;
        Ok(())
    }

    fn end_chat(&mut self) -> io::Result<()> {
        if self.had_message {
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(b"]}")
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.in_direct {
            self.begin_direct()?;
        }
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()
    }

    fn written(&self) -> u64 {
        self.out.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{ExportAttachment, Pin, Scope};

    fn chat(name: Option<&str>, members: &[&str]) -> ChatHead {
        ChatHead {
            key: String::new(),
            name: name.map(str::to_owned),
            creator: None,
            created: name.map(|_| "2026-11-30T10:00:00Z".to_owned()),
            members: members.iter().map(|m| m.to_string()).collect(),
            pins: vec![Pin {
                message: 1,
                by: "alice".into(),
                at: "2026-11-30T10:00:00Z".into(),
            }],
            message_count: 0,
        }
    }

    fn message(id: u64, deleted: bool) -> ExportMessage {
        ExportMessage {
            id,
            author: "alice".into(),
            time: "2026-11-30T10:00:00.000Z".into(),
            deleted,
            text: (!deleted).then(|| "hi \"there\"".to_owned()),
            edited: None,
            reply_to: None,
            reactions: if deleted {
                Vec::new()
            } else {
                vec![("👍".into(), vec!["bob".into(), "carol".into()])]
            },
            attachments: if deleted {
                Vec::new()
            } else {
                vec![ExportAttachment {
                    name: "a.pdf".into(),
                    kind: "application/pdf".into(),
                    size: Some(3),
                    url: "/uploads/x.pdf".into(),
                }]
            },
        }
    }

    /// Rooms, an empty room and a direct chat make one valid document of the shape
    /// the docs show; with no direct chat, `direct` is an empty array.
    #[test]
    fn pieces_make_one_valid_document() {
        let head = Head {
            format: "parlor-export",
            version: 1,
            exported_at: "2026-11-30T10:00:00Z".into(),
            parlor: "0.1.0".into(),
            schema: 11,
            scope: Scope::Everything,
        };
        let chats = [
            chat(Some("General"), &["alice", "bob"]),
            chat(Some("Empty"), &[]),
            chat(None, &["alice", "bob"]),
        ];
        let mut out = Vec::new();
        let mut sink = JsonSink::new(Counted::new(&mut out));
        sink.start(&head, &chats).expect("start");
        sink.begin_chat(&chats[0]).expect("chat");
        sink.message(&message(1, false)).expect("message");
        sink.message(&message(2, true)).expect("message");
        sink.end_chat().expect("end");
        sink.begin_chat(&chats[1]).expect("chat");
        sink.end_chat().expect("end");
        sink.begin_chat(&chats[2]).expect("chat");
        sink.message(&message(3, false)).expect("message");
        sink.end_chat().expect("end");
        sink.finish().expect("finish");
        let written = sink.written();
        assert_eq!(written, out.len() as u64);
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["scope"], "everything");
        assert_eq!(doc["rooms"][0]["name"], "General");
        assert_eq!(doc["rooms"][0]["messages"][0]["text"], "hi \"there\"");
        assert_eq!(
            doc["rooms"][0]["messages"][0]["reactions"]["👍"],
            serde_json::json!(["bob", "carol"])
        );
        let tombstone = &doc["rooms"][0]["messages"][1];
        assert_eq!(tombstone["deleted"], true);
        assert!(tombstone.get("text").is_none(), "{tombstone}");
        assert_eq!(doc["rooms"][1]["messages"], serde_json::json!([]));
        assert!(doc["direct"][0].get("name").is_none());
        assert_eq!(doc["direct"][0]["messages"][0]["id"], 3);

        let mut out = Vec::new();
        let mut sink = JsonSink::new(Counted::new(&mut out));
        let room = Head {
            scope: Scope::Room("General".into()),
            ..head
        };
        sink.start(&room, &chats[..1]).expect("start");
        sink.begin_chat(&chats[0]).expect("chat");
        sink.end_chat().expect("end");
        sink.finish().expect("finish");
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(doc["scope"]["room"], "General");
        assert_eq!(doc["direct"], serde_json::json!([]));
    }
}
