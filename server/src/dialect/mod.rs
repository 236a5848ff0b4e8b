//! The seed dialects: thin translations between a dialect's frames and the hub's
//! commands and events, each an [`Edge`](crate::driver::Edge) on the one connection
//! driver. Each holds no state of the world, only what its connection shows
//! (Workshop's current room). A hub item is rendered once per dialect, in its slot
//! of the item's render cache, however many of the dialect's sessions receive it.

pub mod rwci;
pub mod workshop;
pub mod workspace;

use crate::domain::{ChatRef, EventData, GENERAL};
use crate::hub::{ChatName, Hub, Outbound, Session};
use axum::extract::ws::Utf8Bytes;

/// The dialects' slots in an item's render cache (the native protocol has 0 and 1).
const RWCI_SLOT: usize = 2;
const WORKSPACE_SLOT: usize = 3;
const WORKSHOP_SLOT: usize = 4;

/// The frame `item` becomes in a dialect (`None`: it has none), rendered once per item
/// for all of that dialect's sessions.
fn cached(
    item: &Outbound,
    slot: usize,
    render: impl FnOnce() -> Option<Utf8Bytes>,
) -> Option<Utf8Bytes> {
    match item {
        Outbound::Logged { event, .. } => event.frames.get_or_render(slot, render),
        Outbound::Live(live) => live.frames.get_or_render(slot, render),
    }
}

/// Whether a chat is the room `General` (where RWCI and Workspace live).
fn is_general(name: &ChatName) -> bool {
    name.room() == Some(GENERAL)
}

/// The room `General`, as a chat reference.
fn general() -> ChatRef {
    ChatRef::Room(GENERAL.into())
}

/// A new message in the log item, with its chat's name.
fn new_message(item: &Outbound) -> Option<(&ChatName, &crate::domain::Message)> {
    match item {
        Outbound::Logged { event, .. } => match &event.event.data {
            EventData::New { message } => Some((&event.name, message)),
            _ => None,
        },
        Outbound::Live(_) => None,
    }
}

/// A message as the dialects show it: its plain text ([`plain_text`]), and since they
/// have no attachments, each file after it on a line of its own, `[file: NAME] URL`
/// (`[image: …]`, `[audio: …]`, `[video: …]` for those kinds), the URL as stored
/// (`/uploads/…`, relative to the server the client is connected to).
fn text_of(message: &crate::domain::Message) -> String {
    let mut text = plain_text(message);
    for a in &message.attachments {
        if !text.is_empty() {
            text.push('\n');
        }
        let kind = match a.kind.as_str() {
            "image" | "audio" | "video" => a.kind.as_str(),
            _ => "file",
        };
        text.push_str(&format!("[{kind}: {}] {}", a.filename, a.url));
    }
    text
}

/// Posts a dialect's chat text: the dialects do not replicate empty messages, so those
/// are dropped (`Ok(())`); anything else is the hub's answer.
async fn post(
    hub: &Hub,
    session: &Session,
    chat: &ChatRef,
    text: String,
) -> Result<(), crate::domain::Refusal> {
    if text.trim().is_empty() {
        return Ok(());
    }
    hub.send_message(session, chat, text, Vec::new(), None)
        .await
        .map(|_| ())
}

/// A message's text as a dialect client shows it: the Markdown markers removed (code
/// kept), links as "text (url)", and a reply opened by a one-line quote of what it
/// answers (`docs/protocol.md`, 6.17).
fn plain_text(message: &crate::domain::Message) -> String {
    app::markdown::dialect_text(&message.text, message.quote.as_ref())
}

fn frame(json: String) -> Utf8Bytes {
    json.into()
}
