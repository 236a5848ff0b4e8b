//! The native requests of a logged-in connection other than a chat message (`new`,
//! answered by the edge itself) and those the connection handles in place (`auth`,
//! `subscribe`, `logout`): each becomes a hub command or query, and its outcome a
//! `response` frame (an `error` one for a refusal).

use super::{chat, error_frame};
use crate::domain::{now_ms, ReceiptKind, Refusal};
use crate::hub::{ChatSummary, Hub, RoomSummary, Session, UserSummary};
use crate::store::StoredMessage;
use app::protocol::{
    ChatInfo, ChatList, MemberList, MessageItem, ReadOk, ReceiptList, ReceiptMarks, Request,
    RequestBody, Response, Role, RoomInfo, RoomList, SearchHit, SearchResults, ServerFrame,
    UserList, UserPresence,
};
use serde_json::json;
use std::sync::Arc;

/// Handles one request (never `auth`, `subscribe`, `new`, or those that end or change
/// the session: `logout`, `logoutEverywhere`, `changePassword`) and answers the
/// response frame.
pub(super) async fn handle(hub: Arc<Hub>, session: Arc<Session>, request: Request) -> String {
    let id = request.id.clone();
    match answer(&hub, &session, request).await {
        Ok(response) => ServerFrame::Response(response).to_json(),
        Err(refusal) => error_frame(&id, &refusal),
    }
}

async fn answer(hub: &Hub, session: &Session, request: Request) -> Result<Response, Refusal> {
    if let Some(answered) = super::reactions::answer(hub, session, &request).await {
        return answered;
    }
    if let Some(answered) = super::access::answer(hub, session, &request).await {
        return answered;
    }
    if let Some(answered) = super::accounts::answer(hub, session, &request).await {
        return answered;
    }
    if let Some(answered) = super::rooms::answer(hub, session, &request).await {
        return answered;
    }
    if let Some(answered) = super::push::answer(hub, session, &request).await {
        return answered;
    }
    let id = request.id;
    let now = now_ms();
    let user = &session.user;
    Ok(match request.body {
        RequestBody::Auth(_) => return Err(Refusal::BadRequest("already logged in".into())),
        RequestBody::Subscribe(_)
        | RequestBody::Logout(_)
        | RequestBody::LogoutEverywhere(_)
        | RequestBody::ChangePassword(_)
        | RequestBody::DeleteAccount(_)
        | RequestBody::New(_) => return Err(Refusal::Internal("handled by the connection".into())),
        RequestBody::GetReceipts(get) => {
            let marks = hub.receipts(user, &chat(&get.chat_id)?).await?;
            Response::ok(
                id,
                now,
                &ReceiptList {
                    receipts: marks
                        .into_iter()
                        .map(|(user_id, delivered, read)| ReceiptMarks {
                            user_id,
                            delivered,
                            read,
                        })
                        .collect(),
                },
            )
        }
        RequestBody::Edit(edit) => {
            hub.edit_message(
                session,
                &chat(&edit.chat_id)?,
                edit.message_id,
                edit.message,
                edit.attachments,
            )
            .await?;
            Response::empty(id, now_ms())
        }
        RequestBody::Delete(delete) => {
            hub.delete_message(session, &chat(&delete.chat_id)?, delete.message_id)
                .await?;
            Response::empty(id, now_ms())
        }
        RequestBody::Dlvrd(mark) => {
            let outcome = hub
                .mark(
                    session,
                    &chat(&mark.chat_id)?,
                    ReceiptKind::Dlvrd,
                    mark.message_id,
                )
                .await?;
            // As in seed 003: no payload when a message was named, `{}` when not; the
            // response's timestamp is the time of the (first) mark.
            let mut response = Response::empty(id, outcome.at);
            if mark.message_id.is_none() {
                response.payload = app::protocol::Payload::of(&json!({}));
            }
            response
        }
        RequestBody::Read(mark) => {
            let outcome = hub
                .mark(
                    session,
                    &chat(&mark.chat_id)?,
                    ReceiptKind::Read,
                    mark.message_id,
                )
                .await?;
            let mut response = Response::ok(
                id,
                outcome.at,
                &ReadOk {
                    chat_id: mark.chat_id,
                    message_id: outcome.upto,
                    client_message_id: outcome.client_message_id,
                    missed: outcome.unread,
                },
            );
            response.payload_type = Some("read".into());
            response
        }
        RequestBody::GetMessages(get) => {
            let page = hub
                .history(user, &chat(&get.chat_id)?, get.end_id, get.count)
                .await?;
            let items: Vec<MessageItem> = page.into_iter().map(item).collect();
            Response::ok(id, now, &items)
        }
        RequestBody::GetMessage(get) => {
            let stored = hub
                .message(user, &chat(&get.chat_id)?, get.message_id)
                .await?;
            Response::ok(id, now, &item(stored))
        }
        RequestBody::GetChat(get) => {
            let summary = hub.chat_summary(user, &chat(&get.chat_id)?).await?;
            Response::ok(id, now, &chat_info(summary))
        }
        RequestBody::GetChats(_) => {
            let chats = hub.chats(user).await?;
            Response::ok(
                id,
                now,
                &ChatList {
                    chats: chats.into_iter().map(chat_info).collect(),
                },
            )
        }
        RequestBody::CreateRoom(create) => {
            let room = hub
                .create_room(session, &create.name, create.private)
                .await?;
            let info = hub
                .room(user, room)
                .ok_or_else(|| Refusal::Internal("the new room is missing".into()))?;
            Response::ok(id, now_ms(), &room_info(info))
        }
        RequestBody::JoinRoom(join) => {
            let room = hub.join_room(session, &chat(&join.chat_id)?).await?;
            let info = hub
                .room(user, room)
                .ok_or_else(|| Refusal::NotFound("no such room".into()))?;
            Response::ok(id, now_ms(), &room_info(info))
        }
        RequestBody::LeaveRoom(leave) => {
            hub.leave_room(session, &chat(&leave.chat_id)?).await?;
            Response::empty(id, now_ms())
        }
        RequestBody::ListRooms(_) => Response::ok(
            id,
            now,
            &RoomList {
                rooms: hub.rooms(user).into_iter().map(room_info).collect(),
            },
        ),
        RequestBody::GetMembers(get) => Response::ok(
            id,
            now,
            &MemberList {
                members: hub
                    .members(user, &chat(&get.chat_id)?)?
                    .into_iter()
                    // Roles are listed by `listUsers` only.
                    .map(|u| UserPresence {
                        role: Role::Member,
                        ..presence(u)
                    })
                    .collect(),
            },
        ),
        RequestBody::ListUsers(_) => Response::ok(
            id,
            now,
            &UserList {
                users: hub.users().into_iter().map(presence).collect(),
            },
        ),
        RequestBody::ClearRoom(clear) => {
            hub.clear_room(session, &chat(&clear.chat_id)?).await?;
            Response::empty(id, now_ms())
        }
        RequestBody::SetStatus(set) => {
            hub.set_status(session, set.status)?;
            Response::empty(id, now)
        }
        RequestBody::Search(search) => {
            let (found, more) = hub
                .search(user, &search.query, search.before_id, search.limit)
                .await?;
            let hits = found
                .into_iter()
                .map(|f| SearchHit {
                    chat_id: f.chat.to_chat_id(),
                    message_id: f.message.id,
                    sender: f.message.sender,
                    created_at: f.message.created_at,
                    message: f.message.text,
                    highlights: f.highlights,
                })
                .collect();
            Response::ok(id, now_ms(), &SearchResults { hits, more })
        }
        RequestBody::React(_) | RequestBody::Pin(_) | RequestBody::GetPins(_) => {
            return Err(Refusal::Internal("handled in reactions".into()))
        }
        RequestBody::SetRegistration(_)
        | RequestBody::CreateInvite(_)
        | RequestBody::GetInvites(_)
        | RequestBody::RevokeInvite(_)
        | RequestBody::Ban(_)
        | RequestBody::GetBans(_)
        | RequestBody::GetStorage(_) => return Err(Refusal::Internal("handled in access".into())),
        RequestBody::CreateReset(_)
        | RequestBody::SetDeletedMessages(_)
        | RequestBody::GetAccountSettings(_) => {
            return Err(Refusal::Internal("handled in accounts".into()))
        }
        RequestBody::SetRoom(_)
        | RequestBody::AddMember(_)
        | RequestBody::Kick(_)
        | RequestBody::Mute(_)
        | RequestBody::SetRole(_)
        | RequestBody::SetProfile(_)
        | RequestBody::GetProfile(_)
        | RequestBody::Block(_)
        | RequestBody::GetBlocks(_) => return Err(Refusal::Internal("handled in rooms".into())),
        RequestBody::PushSubscribe(_)
        | RequestBody::PushUnsubscribe(_)
        | RequestBody::GetNtfyTopic(_)
        | RequestBody::ResetNtfyTopic(_) => {
            return Err(Refusal::Internal("handled in push".into()))
        }
        RequestBody::SetNotify(set) => {
            let chat_id = hub
                .set_notify(session, &chat(&set.chat_id)?, set.level)
                .await?;
            let level = set.level;
            Response::ok(id, now, &app::protocol::NotifyEvent { chat_id, level })
        }
    })
}

pub(super) fn item(stored: StoredMessage) -> MessageItem {
    let m = stored.message;
    MessageItem {
        message_id: m.id,
        client_message_id: m.client_message_id,
        message: m.text,
        attachments: m.attachments,
        sender: m.sender,
        created_at: m.created_at,
        updated_at: m.updated_at,
        deleted: m.deleted,
        delivered: stored.delivered,
        read: stored.read,
        reply_to: m.quote,
        reactions: stored.reactions,
        mentions: m.mentions,
        mentions_room: m.mentions_room,
    }
}

fn chat_info(s: ChatSummary) -> ChatInfo {
    ChatInfo {
        chat_id: s.chat.to_chat_id(),
        kind: if s.direct { "dialog" } else { "group" }.into(),
        name: s.name,
        last_id: s.last_id,
        unread_count: s.unread,
        notify: s.notify,
    }
}

pub(super) fn room_info(r: RoomSummary) -> RoomInfo {
    RoomInfo {
        chat_id: format!("#{}", r.name),
        name: r.name,
        creator: r.creator,
        members: r.members as u64,
        joined: r.joined,
        topic: r.topic,
        private: r.private,
        announce: r.announce,
        retention_days: (r.retention_days > 0).then_some(r.retention_days),
        manage: r.manage,
        muted: r.muted,
    }
}

fn presence(u: UserSummary) -> UserPresence {
    UserPresence {
        user_id: u.name,
        status: u.status,
        display_name: u.display_name,
        avatar: u
            .avatar
            .map(|a| format!("/uploads/{a}"))
            .unwrap_or_default(),
        role: u.role,
    }
}
