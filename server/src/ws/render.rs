//! Hub events in the native dialect: one [`ServerFrame`] per log or live event, rendered
//! once per view and cached on the event. A `new` event's per-receiver `missed` count
//! is spliced into the cached bytes (it is the frame's last field).

use crate::domain::{EventData, LogEvent, ReceiptKind, UserKey};
use crate::hub::{ChatName, Live, LiveShared, Shared};
use app::protocol::{
    BroadcastEvent, DeleteEvent, EditEvent, Event, EventBody, MemberEvent, MessageEvent,
    ReceiptEvent, RoomRef, ServerFrame, TypingEvent, UserPresence, UserRef,
};
use axum::extract::ws::Utf8Bytes;

/// Render slots 0 and 1 of an item's cache hold its two native views.
const NATIVE_SLOT: usize = 0;
const MISSED_TAIL: &str = "0}}";

/// The native frame of a log event for `viewer`.
pub fn logged(shared: &Shared, viewer: &UserKey, missed: u64) -> Utf8Bytes {
    let slot = NATIVE_SLOT + shared.name.view_of(viewer);
    let frame: Utf8Bytes = shared.frames.get_or_render(slot, || {
        log_frame(&shared.event, &shared.name, viewer)
            .to_json()
            .into()
    });
    splice_missed(frame, &shared.event, missed)
}

/// The native frame of a log event, rendered without the cache (replay).
pub fn replayed(event: &LogEvent, name: &ChatName, viewer: &UserKey, missed: u64) -> Utf8Bytes {
    let frame: Utf8Bytes = log_frame(event, name, viewer).to_json().into();
    splice_missed(frame, event, missed)
}

fn splice_missed(frame: Utf8Bytes, event: &LogEvent, missed: u64) -> Utf8Bytes {
    if missed == 0 || !matches!(event.data, EventData::New { .. }) {
        return frame;
    }
    match frame.as_str().strip_suffix(MISSED_TAIL) {
        Some(head) => format!("{head}{missed}}}}}").into(),
        None => frame,
    }
}

fn log_frame(event: &LogEvent, name: &ChatName, viewer: &UserKey) -> ServerFrame {
    let chat_id = name.seen_by(viewer).to_chat_id();
    let body = match &event.data {
        EventData::New { message } => EventBody::New(MessageEvent {
            chat_id,
            message_id: message.id,
            client_message_id: message.client_message_id.clone(),
            sender: Some(message.sender.clone()),
            message: message.text.clone(),
            attachments: message.attachments.clone(),
            created_at: Some(message.created_at),
            missed: 0,
        }),
        EventData::Edit { message } => EventBody::Edit(EditEvent {
            chat_id,
            message_id: message.id,
            client_message_id: message.client_message_id.clone(),
            sender: Some(message.sender.clone()),
            message: message.text.clone(),
            attachments: message.attachments.clone(),
            updated_at: Some(message.updated_at),
        }),
        EventData::Delete {
            message_id,
            sender,
            client_message_id,
        } => EventBody::Delete(DeleteEvent {
            chat_id,
            message_id: *message_id,
            client_message_id: client_message_id.clone(),
            sender: Some(sender.clone()),
        }),
        EventData::Receipt {
            receipt,
            reader,
            upto,
            client_message_id,
            at,
        } => {
            let payload = ReceiptEvent {
                chat_id,
                message_id: *upto,
                client_message_id: client_message_id.clone(),
                user_id: Some(reader.clone()),
                timestamp: Some(*at),
            };
            match receipt {
                ReceiptKind::Dlvrd => EventBody::Dlvrd(payload),
                ReceiptKind::Read => EventBody::Read(payload),
            }
        }
        EventData::Join { user, .. } => EventBody::Join(MemberEvent {
            chat_id,
            user_id: user.clone(),
        }),
        EventData::Leave { user, .. } => EventBody::Leave(MemberEvent {
            chat_id,
            user_id: user.clone(),
        }),
        EventData::Clear { user, .. } => EventBody::Clear(MemberEvent {
            chat_id,
            user_id: user.clone(),
        }),
    };
    ServerFrame::Event(Event {
        id: Some(event.id),
        timestamp: event.at,
        body,
    })
}

/// The native frame of a live event for `viewer`; `None` for what the native protocol
/// does not send (the end of typing: its clients let indicators lapse).
pub fn live(shared: &LiveShared, viewer: &UserKey) -> Option<Utf8Bytes> {
    let slot = match &shared.live {
        Live::Typing { chat, .. } => NATIVE_SLOT + chat.view_of(viewer),
        _ => NATIVE_SLOT,
    };
    let body = live_body(&shared.live, viewer)?;
    Some(shared.frames.get_or_render(slot, || {
        ServerFrame::Event(Event {
            id: None,
            timestamp: shared.at,
            body,
        })
        .to_json()
        .into()
    }))
}

fn live_body(live: &Live, viewer: &UserKey) -> Option<EventBody> {
    Some(match live {
        Live::Typing { chat, user } => EventBody::Typing(TypingEvent {
            chat_id: chat.seen_by(viewer).to_chat_id(),
            user_id: Some(user.clone()),
        }),
        Live::TypingStopped { .. } | Live::RoomPresence { .. } => return None,
        Live::Online { user } => EventBody::Online(UserRef {
            user_id: user.clone(),
        }),
        Live::Offline { user } => EventBody::Offline(UserRef {
            user_id: user.clone(),
        }),
        Live::Presence { user, status } => EventBody::Presence(UserPresence {
            user_id: user.clone(),
            status: *status,
        }),
        Live::Broadcast { text, .. } => EventBody::Broadcast(BroadcastEvent {
            message: text.clone(),
        }),
        Live::RoomCreated { room, creator } => EventBody::RoomCreated(RoomRef {
            chat_id: format!("#{room}"),
            name: room.clone(),
            creator: Some(creator.clone()),
        }),
    })
}
