//! The native requests of who may join: `setRegistration`, `createInvite`,
//! `getInvites`, `revokeInvite`, `ban` and `getBans`, each a hub command whose outcome becomes a
//! `response` frame. None of them logs an event: they change nothing others see.

use crate::domain::{now_ms, Refusal};
use crate::hub::{Hub, InviteSpec, Maker, Session};
use app::protocol::{
    BanList, InviteList, NewInvite, RegistrationState, Request, RequestBody, Response,
};

/// The path of an invitation's link on this server.
pub fn invite_path(code: &str) -> String {
    format!("/invite/{code}")
}

/// Answers one of the requests above; `None` for any other request.
pub(super) async fn answer(
    hub: &Hub,
    session: &Session,
    request: &Request,
) -> Option<Result<Response, Refusal>> {
    let id = request.id.as_str();
    Some(match &request.body {
        RequestBody::SetRegistration(set) => hub
            .set_registration(session, set.mode)
            .await
            .map(|registration| Response::ok(id, now_ms(), &RegistrationState { registration })),
        RequestBody::CreateInvite(create) => {
            let spec = InviteSpec {
                role: create.role,
                uses: create.uses,
                expires_in: create.expires_in,
            };
            hub.create_invite(Maker::Person(session), spec)
                .await
                .map(|(code, invite)| {
                    let path = invite_path(&code);
                    let made = NewInvite::new(code, path, invite);
                    Response::ok(id, now_ms(), &made)
                })
        }
        RequestBody::GetInvites(_) => hub.invites(session).await.map(|(registration, invites)| {
            Response::ok(
                id,
                now_ms(),
                &InviteList {
                    registration,
                    invites,
                },
            )
        }),
        RequestBody::RevokeInvite(revoke) => hub
            .revoke_invite(session, &revoke.id)
            .await
            .map(|()| Response::empty(id, now_ms())),
        RequestBody::Ban(ban) => hub
            .ban(session, &ban.user_id, ban.banned)
            .await
            .map(|()| Response::empty(id, now_ms())),
        RequestBody::GetBans(_) => hub
            .bans(session)
            .await
            .map(|bans| Response::ok(id, now_ms(), &BanList { bans })),
        RequestBody::GetStorage(_) => hub
            .storage(session)
            .await
            .map(|report| Response::ok(id, now_ms(), &report)),
        _ => return None,
    })
}
