//! The documented maximum of every string field of every client frame (the table in
//! `docs/protocol.md`, section 3.4), checked when a frame is parsed: a field over its
//! maximum is a `bad_request` before the server does anything with the request, and the
//! browser app, which shares these types, knows the same limits. The hub checks the
//! rules again (names, text), for the dialects that do not come through here.

use super::{
    Attachment, ClientEventBody, RequestBody, MAX_ATTACHMENTS, MAX_ATTACHMENT_FILENAME,
    MAX_ATTACHMENT_TOKEN, MAX_ATTACHMENT_URL, MAX_CHAT_ID_BYTES, MAX_CLIENT_MESSAGE_ID,
    MAX_EMOJI_BYTES, MAX_MESSAGE_BYTES, MAX_PASSWORD_BYTES, MAX_ROOM_NAME_CHARS, MAX_TOKEN_BYTES,
    MAX_TOPIC_CHARS, MAX_USERNAME_CHARS,
};

/// Which field is over its maximum, as a message for the client.
pub type Oversized = String;

fn bytes(field: &str, value: &str, max: usize) -> Result<(), Oversized> {
    if value.len() > max {
        return Err(format!("{field} has at most {max} bytes"));
    }
    Ok(())
}

fn chars(field: &str, value: &str, max: usize) -> Result<(), Oversized> {
    // Four bytes is the widest character: shorter strings need no count.
    if value.len() > max && value.chars().count() > max {
        return Err(format!("{field} has at most {max} characters"));
    }
    Ok(())
}

fn chat_id(value: &str) -> Result<(), Oversized> {
    bytes("chatId", value, MAX_CHAT_ID_BYTES)
}

fn client_message_id(value: Option<&String>) -> Result<(), Oversized> {
    value.map_or(Ok(()), |c| {
        bytes("clientMessageId", c, MAX_CLIENT_MESSAGE_ID)
    })
}

/// A message's text and attachments.
pub fn check_content(text: &str, attachments: &[Attachment]) -> Result<(), Oversized> {
    bytes("message", text, MAX_MESSAGE_BYTES)?;
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(format!(
            "a message has at most {MAX_ATTACHMENTS} attachments"
        ));
    }
    attachments.iter().try_for_each(check_attachment)
}

/// Every string field of an attachment: each is stored, and sent to everyone in the
/// chat with every copy of the message.
pub fn check_attachment(a: &Attachment) -> Result<(), Oversized> {
    bytes("an attachment's url", &a.url, MAX_ATTACHMENT_URL)?;
    bytes(
        "an attachment's filename",
        &a.filename,
        MAX_ATTACHMENT_FILENAME,
    )?;
    bytes("an attachment's type", &a.kind, MAX_ATTACHMENT_TOKEN)?;
    bytes("an attachment's id", &a.id, MAX_ATTACHMENT_TOKEN)?;
    bytes(
        "an attachment's meta.mimetype",
        &a.meta.mimetype,
        MAX_ATTACHMENT_TOKEN,
    )
}

impl RequestBody {
    /// Every string field within its documented maximum.
    pub fn check_sizes(&self) -> Result<(), Oversized> {
        match self {
            RequestBody::Auth(auth) => {
                chars("username", &auth.username, MAX_USERNAME_CHARS)?;
                bytes("password", &auth.password, MAX_PASSWORD_BYTES)?;
                auth.token
                    .as_deref()
                    .map_or(Ok(()), |t| bytes("token", t, MAX_TOKEN_BYTES))?;
                auth.invite
                    .as_deref()
                    .map_or(Ok(()), |c| bytes("invite", c, MAX_TOKEN_BYTES))?;
                auth.reset
                    .as_deref()
                    .map_or(Ok(()), |c| bytes("reset", c, MAX_TOKEN_BYTES))
            }
            RequestBody::New(new) => {
                chat_id(&new.chat_id)?;
                client_message_id(new.client_message_id.as_ref())?;
                check_content(&new.message, &new.attachments)
            }
            RequestBody::Edit(edit) => {
                chat_id(&edit.chat_id)?;
                check_content(&edit.message, edit.attachments.as_deref().unwrap_or(&[]))
            }
            RequestBody::Delete(delete) => {
                chat_id(&delete.chat_id)?;
                client_message_id(delete.client_message_id.as_ref())
            }
            RequestBody::Dlvrd(r) | RequestBody::Read(r) => chat_id(&r.chat_id),
            RequestBody::GetMessages(get) => chat_id(&get.chat_id),
            RequestBody::GetMessage(get) => chat_id(&get.chat_id),
            RequestBody::GetChat(c)
            | RequestBody::JoinRoom(c)
            | RequestBody::LeaveRoom(c)
            | RequestBody::GetMembers(c)
            | RequestBody::GetReceipts(c)
            | RequestBody::ClearRoom(c)
            | RequestBody::GetPins(c) => chat_id(&c.chat_id),
            RequestBody::React(react) => {
                chat_id(&react.chat_id)?;
                bytes("emoji", &react.emoji, MAX_EMOJI_BYTES)
            }
            RequestBody::Pin(pin) => chat_id(&pin.chat_id),
            RequestBody::SetNotify(n) => chat_id(&n.chat_id),
            RequestBody::CreateRoom(create) => chars("name", &create.name, MAX_ROOM_NAME_CHARS),
            RequestBody::ChangePassword(change) => {
                bytes("oldPassword", &change.old_password, MAX_PASSWORD_BYTES)?;
                bytes("newPassword", &change.new_password, MAX_PASSWORD_BYTES)
            }
            RequestBody::Search(search) => {
                bytes("query", &search.query, crate::search::MAX_QUERY_BYTES)
            }
            RequestBody::RevokeInvite(r) => bytes("id", &r.id, MAX_TOKEN_BYTES),
            RequestBody::Ban(b) => chars("userId", &b.user_id, MAX_USERNAME_CHARS),
            RequestBody::SetRoom(s) => {
                chat_id(&s.chat_id)?;
                s.topic
                    .as_deref()
                    .map_or(Ok(()), |t| chars("topic", t, MAX_TOPIC_CHARS))
            }
            RequestBody::AddMember(m) | RequestBody::Kick(m) => {
                chat_id(&m.chat_id)?;
                chars("userId", &m.user_id, MAX_USERNAME_CHARS)
            }
            RequestBody::Mute(m) => {
                chat_id(&m.chat_id)?;
                chars("userId", &m.user_id, MAX_USERNAME_CHARS)
            }
            RequestBody::SetRole(r) => chars("userId", &r.user_id, MAX_USERNAME_CHARS),
            RequestBody::CreateReset(r) => chars("userId", &r.user_id, MAX_USERNAME_CHARS),
            RequestBody::DeleteAccount(d) => bytes("password", &d.password, MAX_PASSWORD_BYTES),
            RequestBody::Subscribe(_)
            | RequestBody::GetChats(_)
            | RequestBody::ListRooms(_)
            | RequestBody::ListUsers(_)
            | RequestBody::SetStatus(_)
            | RequestBody::Logout(_)
            | RequestBody::LogoutEverywhere(_)
            | RequestBody::SetRegistration(_)
            | RequestBody::CreateInvite(_)
            | RequestBody::GetInvites(_)
            | RequestBody::GetBans(_)
            | RequestBody::GetStorage(_)
            | RequestBody::GetBlocks(_)
            | RequestBody::SetDeletedMessages(_)
            | RequestBody::GetAccountSettings(_) => Ok(()),
            RequestBody::SetProfile(p) => {
                p.display_name.as_deref().map_or(Ok(()), |n| {
                    chars("displayName", n, super::MAX_DISPLAY_NAME_CHARS)
                })?;
                p.about
                    .as_deref()
                    .map_or(Ok(()), |a| chars("about", a, super::MAX_ABOUT_CHARS))?;
                p.avatar
                    .as_deref()
                    .map_or(Ok(()), |a| bytes("avatar", a, MAX_ATTACHMENT_TOKEN))
            }
            RequestBody::GetProfile(u) => chars("userId", &u.user_id, MAX_USERNAME_CHARS),
            RequestBody::Block(b) => chars("userId", &b.user_id, MAX_USERNAME_CHARS),
            RequestBody::PushSubscribe(s) => {
                bytes("endpoint", &s.endpoint, super::MAX_PUSH_ENDPOINT_BYTES)?;
                // base64url without padding: 4 characters per 3 bytes, rounded up.
                bytes("p256dh", &s.p256dh, 88)?;
                bytes("auth", &s.auth, 24)
            }
            RequestBody::PushUnsubscribe(u) => {
                bytes("endpoint", &u.endpoint, super::MAX_PUSH_ENDPOINT_BYTES)
            }
            RequestBody::GetNtfyTopic(_) | RequestBody::ResetNtfyTopic(_) => Ok(()),
        }
    }
}

impl ClientEventBody {
    /// Every string field within its documented maximum.
    pub fn check_sizes(&self) -> Result<(), Oversized> {
        match self {
            ClientEventBody::Typing(c) => chat_id(&c.chat_id),
            ClientEventBody::Offline
            | ClientEventBody::Online
            | ClientEventBody::Idle
            | ClientEventBody::Active => Ok(()),
        }
    }
}
