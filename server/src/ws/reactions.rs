//! The native requests of reactions and pinned messages: `react`, `pin` and `getPins`,
//! each a hub command or query whose outcome becomes a `response` frame. The events
//! they log (`reaction`, `pin`) are rendered with every other log event in `mod.rs`.

use super::{chat, requests::item};
use crate::domain::{now_ms, Refusal};
use crate::hub::{Hub, Session};
use app::protocol::{PinList, PinnedItem, Request, RequestBody, Response};

/// Answers `react`, `pin` or `getPins`; `None` for any other request.
pub(super) async fn answer(
    hub: &Hub,
    session: &Session,
    request: &Request,
) -> Option<Result<Response, Refusal>> {
    let id = request.id.as_str();
    Some(match &request.body {
        RequestBody::React(react) => match chat(&react.chat_id) {
            Ok(c) => hub
                .react(session, &c, react.message_id, &react.emoji, react.add)
                .await
                .map(|()| Response::empty(id, now_ms())),
            Err(refusal) => Err(refusal),
        },
        RequestBody::Pin(pin) => match chat(&pin.chat_id) {
            Ok(c) => hub
                .pin(session, &c, pin.message_id, pin.pinned)
                .await
                .map(|()| Response::empty(id, now_ms())),
            Err(refusal) => Err(refusal),
        },
        RequestBody::GetPins(get) => match chat(&get.chat_id) {
            Ok(c) => hub.pins(&session.user, &c).await.map(|pins| {
                let pins = pins
                    .into_iter()
                    .map(|p| PinnedItem {
                        pinned_by: p.pinned_by,
                        pinned_at: p.pinned_at,
                        message: item(p.message),
                    })
                    .collect();
                Response::ok(id, now_ms(), &PinList { pins })
            }),
            Err(refusal) => Err(refusal),
        },
        _ => return None,
    })
}
