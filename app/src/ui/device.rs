//! "This device", in the account panel: installing Parlor as an app (the browser's own
//! install dialog where it has one, the steps where it has none, as on an iPhone).
//! The browser APIs live in `public/pwa.js` (`window.parlorPwa`), plain JavaScript
//! beside the WebAssembly app, because the service worker they talk to is JavaScript
//! anyway; a missing or failing `parlorPwa` shows as an error, never as success.

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
}

/// The message of a JavaScript error (an `Error`'s `message`, or the value as text).
pub(super) fn js_message(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "The browser refused.".to_owned())
}

#[component]
pub fn DevicePanel() -> impl IntoView {
    // The browser's offer comes and goes (`parlor-install` from pwa.js).
    let offered = RwSignal::new(can_install().unwrap_or(false));
    let listener = window_event_listener_untyped("parlor-install", move |_| {
        offered.set(can_install().unwrap_or(false));
    });
    on_cleanup(move || listener.remove());
    let steps = install_steps().unwrap_or_default();
    let error = RwSignal::new(String::new());
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
    view! {
        <section class="account-form" aria-labelledby="device-title">
            <h3 id="device-title">"This device"</h3>
            <button type="button" class="primary small" hidden=move || !offered.get() on:click=on_install>
                "Install Parlor as an app"
            </button>
            <p class="hint" hidden=steps.is_empty()>{steps.clone()}</p>
            <p class="error" role="alert" hidden=move || error.with(String::is_empty)>{move || error.get()}</p>
        </section>
    }
}
