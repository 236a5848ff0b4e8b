//! A native connection's start: the login (`auth`, with a password or a session token,
//! which attaches the session to the hub), and `subscribe`, which replays in pages the
//! events the client missed before the session goes live. Apart from the edge's own
//! file so that that one reads as the path of a chat message.

use super::{error_frame, frame, replayed, Native};
use crate::domain::{now_ms, Chat, EventData, LogEvent, Refusal, UserKey};
use crate::driver::{close, Attached, Ending, Link, Socket};
use crate::hub::{Hub, Login};
use app::protocol::{
    AuthOk, ClientFrame, EventId, RequestBody, Response, ServerFrame, SubscribeOk,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Events read from the log per replay page.
const REPLAY_PAGE: u32 = 500;

impl Native {
    /// One frame before login: a successful `auth` attaches the session; anything else
    /// is answered with `unauthorized`, and a failed `auth` closes the connection.
    pub(super) async fn log_in(
        &mut self,
        text: &str,
        socket: &mut Socket<'_>,
    ) -> Result<Option<Attached>, Ending> {
        let hub = socket.hub;
        let request = match ClientFrame::parse(text) {
            Ok(ClientFrame::Request(r)) => r,
            Ok(_) => return Ok(None),
            Err(e) => {
                if let Some(id) = e.id {
                    let error = Response::error(id, now_ms(), e.code, e.message);
                    socket.send(frame(ServerFrame::Response(error))).await?;
                }
                return Ok(None);
            }
        };
        let RequestBody::Auth(auth) = &request.body else {
            let error = error_frame(&request.id, &Refusal::Unauthorized);
            socket.send(error.into()).await?;
            return Ok(None);
        };
        let peer = socket.peer;
        let outcome = match (&auth.token, &auth.reset) {
            (None, Some(code)) => socket
                .unless_gone(hub.reset_password(&auth.username, &auth.password, code, peer))
                .await?
                .map(|(name, token)| (name, false, token)),
            (Some(token), _) => hub
                .authenticate_token(&auth.username, token)
                .await
                .map(|name| (name, false, token.clone())),
            (None, None) => match socket
                .unless_gone(hub.authenticate(
                    &auth.username,
                    &auth.password,
                    auth.invite.as_deref(),
                    peer,
                ))
                .await?
            {
                Ok((name, registered)) => hub
                    .issue_token(&name)
                    .await
                    .map(|token| (name, registered, token)),
                Err(e) => Err(e),
            },
        };
        let outcome = match outcome {
            Ok((name, registered, token)) => hub
                .attach(Login::account(&name).holding(&token))
                .await
                .map(|session| (session, registered, token)),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(((session, rx), registered, token)) => {
                let ok = AuthOk {
                    user_id: session.name.clone(),
                    registered,
                    token: auth.token.is_none().then(|| token.clone()),
                    role: Some(hub.role_of(&session.user)),
                };
                let answer = ServerFrame::Response(Response::ok(&request.id, now_ms(), &ok));
                socket.send(frame(answer)).await?;
                self.token = token;
                Ok(Some((session, rx)))
            }
            Err(refusal) => {
                let refusal = match refusal {
                    Refusal::AuthFailed
                    | Refusal::NotAllowed(_)
                    | Refusal::RateLimited(_)
                    | Refusal::TooManyConnections(_)
                    | Refusal::Internal(_) => refusal,
                    other => Refusal::BadRequest(format!("login failed: {other}")),
                };
                socket
                    .send(error_frame(&request.id, &refusal).into())
                    .await?;
                Err(Ending::Close(close::POLICY, "login failed"))
            }
        }
    }

    /// `subscribe`: answers what came before (nothing may overtake the replay), then
    /// replays every event after `last_event_id` (by default the last one the user
    /// acknowledged) that the user may see, in place, and goes live.
    pub(super) async fn subscribe(
        &mut self,
        id: &str,
        last_event_id: Option<EventId>,
        link: &mut Link<'_>,
    ) -> Result<(), Ending> {
        link.settle().await?;
        let after = match last_event_id {
            Some(event) => event,
            // Not "from the beginning": a store error must not replay everything.
            None => match link.hub().acked(link.session).await {
                Ok(event) => event,
                Err(refusal) => return link.send(error_frame(id, &refusal).into()).await,
            },
        };
        self.replay(id, after, link).await
    }

    /// Replays every event after `after` that the user may see, then goes live.
    async fn replay(
        &mut self,
        id: &str,
        after: EventId,
        link: &mut Link<'_>,
    ) -> Result<(), Ending> {
        let hub = Arc::clone(link.hub());
        let user = link.session.user.clone();
        hub.subscribe(link.session);
        let plan = match hub.replay_plan(&user, after).await {
            Ok(plan) => plan,
            Err(refusal) => return link.send(error_frame(id, &refusal).into()).await,
        };
        // An id past the log's head (a client from another server, or a bad one) means
        // "from now"; keeping it would hide every later event from this client.
        let after = after.min(plan.head);
        let (missed, last) = (plan.missed, plan.last);
        let ok = SubscribeOk {
            last_event_id: if missed > 0 { last } else { after },
            missed,
        };
        link.send(frame(ServerFrame::Response(Response::ok(
            id,
            now_ms(),
            &ok,
        ))))
        .await?;
        let mut counters: HashMap<Chat, (u64, u64)> = HashMap::new();
        let mut cursor = after;
        while cursor < last {
            let page = match hub.replay_page(&user, cursor, last, REPLAY_PAGE).await {
                Ok(page) => page,
                Err(refusal) => return Err(replay_failed(&refusal)),
            };
            if page.is_empty() {
                // Cleared since the plan was made: what was promised is gone.
                break;
            }
            for event in page {
                cursor = event.id;
                let missed = replay_missed(&hub, &user, &event, &mut counters)
                    .await
                    .map_err(|refusal| replay_failed(&refusal))?;
                let name = hub.chat_name(&event.chat);
                link.send(replayed(&event, &name, &user, missed)).await?;
            }
        }
        self.last_sent = self.last_sent.max(cursor).max(after);
        Ok(())
    }
}

/// A replay that cannot go on: logged, and the connection closed with 1011 so that the
/// client resumes from the last event it received (never a silent stop).
fn replay_failed(refusal: &Refusal) -> Ending {
    tracing::error!(%refusal, "a replay failed");
    Ending::Close(close::INTERNAL, "replay failed: reconnect and resume")
}

/// A replayed `new` event's unread count: the chat's unread messages up to it.
async fn replay_missed(
    hub: &Hub,
    user: &UserKey,
    event: &LogEvent,
    counters: &mut HashMap<Chat, (u64, u64)>,
) -> Result<u64, Refusal> {
    let EventData::New { message } = &event.data else {
        return Ok(0);
    };
    let from_other = UserKey::of(&message.sender) != *user;
    let entry = match counters.get_mut(&event.chat) {
        Some(entry) => entry,
        None => {
            let base = hub.unread_before(user, &event.chat, message.id).await?;
            counters.entry(event.chat.clone()).or_insert(base)
        }
    };
    let (count, read_upto) = entry;
    // A deleted message (its `new` scrubbed) is nobody's unread message.
    if from_other && !message.deleted && message.id > *read_upto {
        *count += 1;
    }
    Ok(*count)
}
