//! The native requests of password resets and deleted accounts: `createReset`,
//! `setDeletedMessages` and `getAccountSettings`, each a hub command whose outcome
//! becomes a `response` frame (`deleteAccount`, which ends the connection, is handled
//! in place by [`delete_account`]). The reset link's login is `auth` with `reset`
//! (in `session`).

use super::{error_frame, frame};
use crate::domain::{now_ms, Refusal};
use crate::driver::{close, Ending, Link};
use crate::hub::{Hub, Maker, Session};
use app::protocol::{AccountSettings, NewReset, Request, RequestBody, Response, ServerFrame};

/// The path of a password reset link on this server.
pub fn reset_path(code: &str) -> String {
    format!("/reset/{code}")
}

/// Answers one of the requests above; `None` for any other request.
pub(super) async fn answer(
    hub: &Hub,
    session: &Session,
    request: &Request,
) -> Option<Result<Response, Refusal>> {
    let id = request.id.as_str();
    Some(match &request.body {
        RequestBody::CreateReset(create) => hub
            .create_reset(Maker::Person(session), &create.user_id)
            .await
            .map(|(user_id, code, expires_at)| {
                let made = NewReset {
                    user_id,
                    path: reset_path(&code),
                    code,
                    expires_at,
                };
                Response::ok(id, now_ms(), &made)
            }),
        RequestBody::SetDeletedMessages(set) => hub
            .deleted_messages(session, Some(set.mode))
            .await
            .map(|mode| settings(id, mode)),
        RequestBody::GetAccountSettings(_) => hub
            .deleted_messages(session, None)
            .await
            .map(|mode| settings(id, mode)),
        _ => return None,
    })
}

fn settings(id: &str, deleted_messages: app::protocol::DeletedMessages) -> Response {
    Response::ok(id, now_ms(), &AccountSettings { deleted_messages })
}

/// `deleteAccount`, in place: answers, then closes this connection (4001 "account
/// deleted") once the account is gone; a refusal is answered and the connection stays.
pub(super) async fn delete_account(
    link: &mut Link<'_>,
    id: &str,
    password: &str,
) -> Result<(), Ending> {
    link.settle().await?;
    let (hub, peer) = (link.hub().clone(), link.socket.peer);
    match hub.delete_account(link.session, peer, password).await {
        Ok(()) => {
            let ok = Response::empty(id, now_ms());
            link.send(frame(ServerFrame::Response(ok))).await?;
            Err(Ending::Close(close::SESSION_ENDED, "account deleted"))
        }
        Err(refusal) => link.send(error_frame(id, &refusal).into()).await,
    }
}
