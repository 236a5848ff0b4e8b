//! The native requests of notifications with Parlor closed: `pushSubscribe` and
//! `pushUnsubscribe` (this device's Web Push subscription), `getNtfyTopic` and
//! `resetNtfyTopic` (the person's secret ntfy topic). Each becomes a hub command; the
//! keys are read here (base64url, exact lengths), the endpoint is checked by the
//! notifier the hub holds.

use crate::domain::{now_ms, Refusal};
use crate::hub::{Hub, Session};
use app::protocol::{
    PushEndpoint, PushSubscribeRequest, Request, RequestBody, Response, PUSH_AUTH_BYTES,
    PUSH_P256DH_BYTES,
};

/// Answers one of the requests above; `None` for any other request.
pub(super) async fn answer(
    hub: &Hub,
    session: &Session,
    request: &Request,
) -> Option<Result<Response, Refusal>> {
    let id = request.id.as_str();
    Some(match &request.body {
        RequestBody::PushSubscribe(sub) => subscribe(hub, session, sub).await.map(|()| {
            let answer = PushEndpoint {
                endpoint: sub.endpoint.clone(),
            };
            Response::ok(id, now_ms(), &answer)
        }),
        RequestBody::PushUnsubscribe(unsub) => hub
            .push_unsubscribe(session, unsub.endpoint.clone())
            .await
            .map(|()| Response::ok(id, now_ms(), unsub)),
        RequestBody::GetNtfyTopic(_) => hub
            .ntfy_topic(session, None)
            .await
            .map(|topic| Response::ok(id, now_ms(), &topic)),
        RequestBody::ResetNtfyTopic(reset) => hub
            .ntfy_topic(session, Some(reset.previews))
            .await
            .map(|topic| Response::ok(id, now_ms(), &topic)),
        _ => return None,
    })
}

async fn subscribe(
    hub: &Hub,
    session: &Session,
    sub: &PushSubscribeRequest,
) -> Result<(), Refusal> {
    let p256dh = key("p256dh", &sub.p256dh, PUSH_P256DH_BYTES)?;
    if p256dh.first() != Some(&4) {
        return Err(Refusal::BadRequest(
            "p256dh must be an uncompressed P-256 point".into(),
        ));
    }
    let auth = key("auth", &sub.auth, PUSH_AUTH_BYTES)?;
    hub.push_subscribe(session, sub.endpoint.clone(), p256dh, auth, sub.previews)
        .await
}

/// `value` decoded from base64url (padding tolerated), exactly `len` bytes.
fn key(field: &str, value: &str, len: usize) -> Result<Vec<u8>, Refusal> {
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(value.trim_end_matches('=').as_bytes())
        .map_err(|_| Refusal::BadRequest(format!("{field} is not base64url")))?;
    if bytes.len() != len {
        return Err(Refusal::BadRequest(format!("{field} must be {len} bytes")));
    }
    Ok(bytes)
}
