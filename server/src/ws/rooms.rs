//! The native requests of room moderation, roles and people: `setRoom`, `addMember`,
//! `kick`, `mute`, `setRole`, `setProfile`, `getProfile`, `block` and `getBlocks`, each
//! a hub command whose outcome becomes a `response` frame.
//! What they change reaches the room's members as logged events (`room`, `join`,
//! `leave`) and a person's own sessions as a `role` event.

use super::chat;
use crate::domain::{now_ms, Refusal};
use crate::hub::{Hub, RoomEdit, Session};
use app::protocol::{BlockList, Request, RequestBody, Response, SetRoleRequest};

/// Answers one of the requests above; `None` for any other request.
pub(super) async fn answer(
    hub: &Hub,
    session: &Session,
    request: &Request,
) -> Option<Result<Response, Refusal>> {
    let id = request.id.as_str();
    Some(match &request.body {
        RequestBody::SetRoom(set) => set_room(hub, session, id, set).await,
        RequestBody::AddMember(add) => match chat(&add.chat_id) {
            Ok(room) => hub
                .add_member(session, &room, &add.user_id)
                .await
                .map(|()| Response::empty(id, now_ms())),
            Err(e) => Err(e),
        },
        RequestBody::Kick(kick) => match chat(&kick.chat_id) {
            Ok(room) => hub
                .kick(session, &room, &kick.user_id)
                .await
                .map(|()| Response::empty(id, now_ms())),
            Err(e) => Err(e),
        },
        RequestBody::Mute(mute) => match chat(&mute.chat_id) {
            Ok(room) => hub
                .mute(session, &room, &mute.user_id, mute.muted)
                .await
                .map(|()| Response::empty(id, now_ms())),
            Err(e) => Err(e),
        },
        RequestBody::SetRole(set) => {
            hub.set_role(session, &set.user_id, set.role)
                .await
                .map(|role| {
                    let answer = SetRoleRequest {
                        user_id: set.user_id.clone(),
                        role,
                    };
                    Response::ok(id, now_ms(), &answer)
                })
        }
        RequestBody::SetProfile(set) => hub
            .set_profile(session, set.clone())
            .await
            .map(|profile| Response::ok(id, now_ms(), &profile)),
        RequestBody::GetProfile(get) => hub
            .profile(&get.user_id)
            .map(|profile| Response::ok(id, now_ms(), &profile)),
        RequestBody::Block(block) => hub
            .block(session, &block.user_id, block.blocked)
            .await
            .map(|()| Response::empty(id, now_ms())),
        RequestBody::GetBlocks(_) => {
            let blocked = hub.blocks(session);
            Ok(Response::ok(id, now_ms(), &BlockList { blocked }))
        }
        _ => return None,
    })
}

async fn set_room(
    hub: &Hub,
    session: &Session,
    id: &str,
    set: &app::protocol::SetRoomRequest,
) -> Result<Response, Refusal> {
    let edit = RoomEdit {
        topic: set.topic.clone(),
        private: set.private,
        announce: set.announce,
        retention_days: set.retention_days,
    };
    let room = hub.set_room(session, &chat(&set.chat_id)?, edit).await?;
    let info = hub
        .room(&session.user, room)
        .ok_or_else(|| Refusal::NotFound("no such room".into()))?;
    Ok(Response::ok(
        id,
        now_ms(),
        &super::requests::room_info(info),
    ))
}
