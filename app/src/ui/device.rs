//! "This device", in the account panel: installing Parlor as an app (the browser's own
//! install dialog where it has one, the steps where it has none, as on an iPhone), and
//! notifications while Parlor is closed: Web Push on this device, or the ntfy app on
//! an Android phone where the network has no internet. The browser APIs live in
//! `public/pwa.js` (`window.parlorPwa`), plain JavaScript beside the WebAssembly app,
//! because the service worker they talk to is JavaScript anyway; a missing or failing
//! `parlorPwa` shows as an error, never as success.

use super::platform;
use super::store::ChatStore;
use crate::protocol::{NtfyTopic, PushSubscribeRequest};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = canInstall)]
    fn can_install() -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = install)]
    fn install() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = installSteps)]
    fn install_steps() -> Result<String, JsValue>;
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = pushSupported)]
    fn push_supported() -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = subscribe)]
    fn subscribe() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = subscribed)]
    fn subscribed() -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(catch, js_namespace = parlorPwa, js_name = unsubscribe)]
    fn unsubscribe() -> Result<js_sys::Promise, JsValue>;
}

/// Where this browser keeps whether pushes to it carry a preview of the text.
const PREVIEWS_KEY: &str = "parlor.pushPreviews";

/// The message of a JavaScript error (an `Error`'s `message`, or the value as text).
fn js_message(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "The browser refused.".to_owned())
}

/// Awaits `promise` (from `pwa.js`) for a string.
async fn text_of(promise: Result<js_sys::Promise, JsValue>) -> Result<String, JsValue> {
    Ok(JsFuture::from(promise?)
        .await?
        .as_string()
        .unwrap_or_default())
}

/// Ends this browser's push subscription; answers its endpoint ("" when none).
pub(crate) async fn end_subscription() -> Result<String, JsValue> {
    text_of(unsubscribe()).await
}

/// Subscribes this browser (asking for permission) and answers the subscription.
async fn new_subscription(previews: bool) -> Result<PushSubscribeRequest, String> {
    let keys = JsFuture::from(subscribe().map_err(|e| js_message(&e))?)
        .await
        .map_err(|e| js_message(&e))?;
    let part = |i| {
        js_sys::Reflect::get_u32(&keys, i)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    Ok(PushSubscribeRequest {
        endpoint: part(0),
        p256dh: part(1),
        auth: part(2),
        previews,
    })
}

#[component]
pub fn DevicePanel() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // The browser's offer comes and goes (`parlor-install` from pwa.js).
    let offered = RwSignal::new(can_install().unwrap_or(false));
    let listener = window_event_listener_untyped("parlor-install", move |_| {
        offered.set(can_install().unwrap_or(false));
    });
    on_cleanup(move || listener.remove());
    let steps = install_steps().unwrap_or_default();
    let error = RwSignal::new(String::new());
    let pushing = RwSignal::new(false);
    let previews = RwSignal::new(platform::load(PREVIEWS_KEY).as_deref() != Some("no"));
    let ntfy = RwSignal::new(None::<NtfyTopic>);

    let on_install = move |_| {
        error.set(String::new());
        let promise = match install() {
            Ok(p) => p,
            Err(e) => return error.set(js_message(&e)),
        };
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = JsFuture::from(promise).await {
                error.set(js_message(&e));
            }
            offered.set(can_install().unwrap_or(false));
        });
    };
    // Turning pushes on (or changing previews while on) subscribes and tells the
    // server; turning them off ends the subscription here and there.
    let apply = move |on: bool| {
        error.set(String::new());
        wasm_bindgen_futures::spawn_local(async move {
            if !on {
                match end_subscription().await {
                    Ok(endpoint) if !endpoint.is_empty() => store
                        .push_unsubscribe(endpoint, move |a| {
                            error.set(a.err().unwrap_or_default())
                        }),
                    Ok(_) => {}
                    Err(e) => error.set(js_message(&e)),
                }
                return pushing.set(false);
            }
            match new_subscription(previews.get_untracked()).await {
                Ok(sub) => store.push_subscribe(sub, move |answer| match answer {
                    Ok(()) => pushing.set(true),
                    Err(e) => {
                        pushing.set(false);
                        error.set(e);
                    }
                }),
                Err(e) => {
                    pushing.set(false);
                    error.set(e);
                }
            }
        });
    };
    // A subscription this browser holds is told to the server again: it may have
    // forgotten it (logged out everywhere, a password change).
    let supported = push_supported().unwrap_or(false);
    if supported {
        wasm_bindgen_futures::spawn_local(async move {
            if text_of(subscribed()).await.is_ok_and(|e| !e.is_empty()) {
                apply(true);
            }
        });
    }
    let on_previews = move |ev| {
        let on = event_target_checked(&ev);
        previews.set(on);
        platform::save(PREVIEWS_KEY, if on { "yes" } else { "no" });
        if pushing.get_untracked() {
            apply(true);
        }
    };
    let show_ntfy = move |reset: Option<bool>| {
        error.set(String::new());
        store.ntfy_topic(reset, move |answer| match answer {
            Ok(topic) => ntfy.set(Some(topic)),
            Err(e) => error.set(e),
        });
    };
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();

    view! {
        <section class="account-form" aria-labelledby="device-title">
            <h3 id="device-title">"This device"</h3>
            <button type="button" class="primary small" hidden=move || !offered.get() on:click=on_install>
                "Install Parlor as an app"
            </button>
            <p class="hint" hidden=steps.is_empty()>{steps.clone()}</p>
            <label class="check" hidden=!supported>
                <input type="checkbox" prop:checked=pushing on:change=move |ev| apply(event_target_checked(&ev)) />
                "Notify me here when Parlor is closed"
            </label>
            <label class="check">
                <input type="checkbox" prop:checked=previews on:change=on_previews />
                "Show message text in those notifications"
            </label>
            <p class="hint" hidden=supported>
                "Notifications with Parlor closed need HTTPS that this device trusts: see "
                <a href="/trust">"Trust this server"</a>"."
            </p>
            <button type="button" class="quiet small" on:click=move |_| show_ntfy(None)>
                "Android without internet: use ntfy"
            </button>
            {move || ntfy.get().map(|t| view! {
                <p class="hint">
                    "In the ntfy app: Subscribe to topic, Use another server. Server: "
                    <code>{format!("{origin}{}", t.path)}</code>" Topic: "<code>{t.topic}</code>
                </p>
                <button type="button" class="quiet small" on:click=move |_| show_ntfy(Some(previews.get_untracked()))>
                    "Make a new topic"
                </button>
            })}
            <p class="error" role="alert" hidden=move || error.with(String::is_empty)>{move || error.get()}</p>
        </section>
    }
}
