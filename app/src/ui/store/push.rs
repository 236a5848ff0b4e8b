//! Notifications with Parlor closed, as the server keeps them: this device's Web Push
//! subscription (made by the browser through `public/pwa.js`, see `ui::device`), and
//! the person's secret ntfy topic for Android phones on a network without the
//! internet. Logging out forgets this device's subscription first, on the server and
//! in the browser, so that the next person on the device gets nobody else's messages.

use super::super::device;
use super::{warn_js, ChatStore};
use crate::protocol::{
    NtfyTopic, PushEndpoint, PushSubscribeRequest, RequestBody, ResetNtfyTopicRequest,
};

impl ChatStore {
    /// Keeps this device's subscription on the server (again, with new `previews`).
    pub fn push_subscribe(
        &self,
        subscription: PushSubscribeRequest,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        self.send_plain(RequestBody::PushSubscribe(subscription), Box::new(done));
    }

    /// Forgets the subscription of `endpoint` on the server.
    pub fn push_unsubscribe(
        &self,
        endpoint: String,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        self.send_plain(
            RequestBody::PushUnsubscribe(PushEndpoint { endpoint }),
            Box::new(done),
        );
    }

    /// The person's ntfy topic (made on first use), or a new one when `reset` says
    /// whether its messages carry previews.
    pub fn ntfy_topic(
        &self,
        reset: Option<bool>,
        done: impl FnOnce(Result<NtfyTopic, String>) + 'static,
    ) {
        let body = match reset {
            Some(previews) => RequestBody::ResetNtfyTopic(ResetNtfyTopicRequest { previews }),
            None => RequestBody::GetNtfyTopic(Default::default()),
        };
        self.request::<NtfyTopic>(body, move |answer| done(answer.map_err(|e| e.message)));
    }

    /// Before logging out: this device's subscription, if any, is forgotten by the
    /// server and ended in the browser; then `then` runs (whatever happened: a failure
    /// is logged, and the server forgets a subscription whose push fails anyway).
    pub(super) fn forget_device_push(&self, then: impl FnOnce() + 'static) {
        let store = *self;
        wasm_bindgen_futures::spawn_local(async move {
            let endpoint = match device::end_subscription().await {
                Ok(endpoint) => endpoint,
                Err(e) => {
                    warn_js("cannot end this device's push subscription", &e);
                    String::new()
                }
            };
            if endpoint.is_empty() {
                return then();
            }
            store.push_unsubscribe(endpoint, move |answer| {
                if let Err(e) = answer {
                    warn_js("the server kept this device's push subscription", &e.into());
                }
                then();
            });
        });
    }
}
