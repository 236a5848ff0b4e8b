//! The native protocol edge (`/ws`): requests answered in order with several in
//! flight, the replay of missed events on `subscribe`, and hub items rendered as
//! native frames. The connection itself (deadlines, pings, writes, limits) is the
//! [`driver`](crate::driver)'s.

pub mod render;
pub mod requests;

use crate::domain::{now_ms, Chat, EventData, Refusal, UserKey};
use crate::driver::{close, Attached, Edge, Ending, Link, Socket};
use crate::hub::{Hub, Login, Outbound, Session};
use app::protocol::{
    AuthOk, ClientEventBody, ClientFrame, EventId, Request, RequestBody, Response, ServerFrame,
    SubscribeOk,
};
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// Events read from the log per replay page.
const REPLAY_PAGE: u32 = 500;

/// One native connection's state.
#[derive(Default)]
pub struct Native {
    /// The session token this login used or was given (revoked by `logout`).
    token: String,
    /// The highest event id written to this socket (later duplicates are skipped).
    last_sent: EventId,
}

fn frame(frame: ServerFrame) -> Utf8Bytes {
    frame.to_json().into()
}

impl Edge for Native {
    const PATH: &'static str = "/ws";

    /// Waits for a successful `auth`; answers everything else with `unauthorized`.
    async fn login(
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
            let error = requests::error_frame(&request.id, &Refusal::Unauthorized);
            socket.send(error.into()).await?;
            return Ok(None);
        };
        let outcome = match &auth.token {
            Some(token) => hub
                .authenticate_token(&auth.username, token)
                .await
                .map(|name| (name, false, token.clone())),
            None => match hub.authenticate(&auth.username, &auth.password).await {
                Ok((name, registered)) => hub
                    .issue_token(&name)
                    .await
                    .map(|token| (name, registered, token)),
                Err(e) => Err(e),
            },
        };
        let outcome = match outcome {
            Ok((name, registered, token)) => hub
                .attach(Login::account(&name))
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
                };
                let answer = ServerFrame::Response(Response::ok(&request.id, now_ms(), &ok));
                socket.send(frame(answer)).await?;
                self.token = token;
                Ok(Some((session, rx)))
            }
            Err(refusal) => {
                let refusal = match refusal {
                    Refusal::AuthFailed | Refusal::TooManyConnections(_) | Refusal::Internal(_) => {
                        refusal
                    }
                    other => Refusal::BadRequest(format!("login failed: {other}")),
                };
                socket
                    .send(requests::error_frame(&request.id, &refusal).into())
                    .await?;
                Err(Ending::Close(close::POLICY, "login failed"))
            }
        }
    }

    async fn on_text(&mut self, text: &str, link: &mut Link<'_>) -> Result<(), Ending> {
        match ClientFrame::parse(text) {
            Ok(ClientFrame::Request(request)) => self.on_request(request, link).await,
            Ok(ClientFrame::Event(event)) => {
                let (hub, session) = (link.hub(), link.session);
                match event.body {
                    ClientEventBody::Typing(chat) => {
                        // Typing in a chat one may not write to is dropped, like any
                        // bad event.
                        if let Ok(chat) = crate::domain::ChatRef::parse(&chat.chat_id) {
                            let _ = hub.typing(session, &chat);
                        }
                    }
                    ClientEventBody::Offline => hub.set_visible(session, false),
                    ClientEventBody::Online => hub.set_visible(session, true),
                    ClientEventBody::Idle => hub.set_idle(session, true),
                    ClientEventBody::Active => hub.set_idle(session, false),
                }
                Ok(())
            }
            Ok(ClientFrame::Ack(ack)) => {
                link.hub().ack(link.session, ack.id);
                let answer = frame(ServerFrame::Response(Response::empty(
                    ack.id.to_string(),
                    now_ms(),
                )));
                link.defer(Box::pin(std::future::ready(Some(answer))));
                Ok(())
            }
            Err(e) => {
                if let Some(id) = e.id {
                    let error = frame(ServerFrame::Response(Response::error(
                        id,
                        now_ms(),
                        e.code,
                        e.message,
                    )));
                    link.defer(Box::pin(std::future::ready(Some(error))));
                }
                Ok(())
            }
        }
    }

    fn render(&mut self, item: &Outbound, session: &Session, out: &mut Vec<Utf8Bytes>) {
        match item {
            Outbound::Logged { event, missed } => {
                if event.event.id <= self.last_sent {
                    return;
                }
                self.last_sent = event.event.id;
                out.push(render::logged(event, &session.user, *missed));
            }
            Outbound::Live(live) => out.extend(render::live(live, &session.user)),
        }
    }
}

impl Native {
    async fn on_request(&mut self, request: Request, link: &mut Link<'_>) -> Result<(), Ending> {
        if let RequestBody::Subscribe(sub) = &request.body {
            // Answer what came before, then replay in place: nothing may overtake it.
            link.settle().await?;
            let after = match sub.last_event_id {
                Some(id) => id,
                // Not "from the beginning": a store error must not replay everything.
                None => match link.hub().acked(link.session).await {
                    Ok(id) => id,
                    Err(refusal) => {
                        let error = requests::error_frame(&request.id, &refusal);
                        return link.send(error.into()).await;
                    }
                },
            };
            return self.subscribe(&request.id, after, link).await;
        }
        if let RequestBody::Logout(_) = &request.body {
            link.settle().await?;
            let answer = match link.hub().revoke_token(&self.token).await {
                Ok(()) => frame(ServerFrame::Response(Response::empty(
                    &request.id,
                    now_ms(),
                ))),
                Err(refusal) => requests::error_frame(&request.id, &refusal).into(),
            };
            link.send(answer).await?;
            return Err(Ending::Close(close::NORMAL, "logged out"));
        }
        let (hub, session) = (link.hub().clone(), link.session.clone());
        link.defer(Box::pin(async move {
            Some(requests::handle(hub, session, request).await.into())
        }));
        Ok(())
    }

    /// Replays every event after `after` that the user may see, then goes live.
    async fn subscribe(
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
            Err(refusal) => return link.send(requests::error_frame(id, &refusal).into()).await,
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
                link.send(render::replayed(&event, &name, &user, missed))
                    .await?;
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
    event: &crate::domain::LogEvent,
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
    if from_other && message.id > *read_upto {
        *count += 1;
    }
    Ok(*count)
}
