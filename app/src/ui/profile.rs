//! One's profile, in the account panel: the display name, a short "about", and an
//! avatar picked from the device, cut square and scaled to 256×256 in the browser
//! ([`super::upload::square_picture`]) before it is uploaded, so it is small on the
//! wire.

use super::store::ChatStore;
use super::upload::{square_picture, upload_blob};
use crate::protocol::SetProfileRequest;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn ProfileForm() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.user().unwrap_or_default();
    let mine = store.profile_of(&me).unwrap_or_default();
    let display = RwSignal::new(mine.display_name);
    let about = RwSignal::new(mine.about);
    let avatar = RwSignal::new(mine.avatar);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let request = SetProfileRequest {
            display_name: Some(display.get_untracked()),
            about: Some(about.get_untracked()),
            avatar: None,
        };
        store.set_profile(request, move |answer| match answer {
            Ok(()) => status.set(Some("Profile saved.".into())),
            Err(e) => error.set(Some(e)),
        });
    };
    let pick = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        let Some(token) = store.token() else { return };
        busy.set(true);
        error.set(None);
        wasm_bindgen_futures::spawn_local(async move {
            let uploaded = match square_picture(&file, 256).await {
                Ok(blob) => upload_blob(&token, &blob, "avatar.webp").await,
                Err(e) => Err(e),
            };
            busy.set(false);
            match uploaded {
                Ok(a) => {
                    let url = a.url.clone();
                    let request = SetProfileRequest {
                        avatar: Some(a.url),
                        ..SetProfileRequest::default()
                    };
                    store.set_profile(request, move |answer| match answer {
                        Ok(()) => {
                            avatar.set(url);
                            status.set(Some("Picture saved.".into()));
                        }
                        Err(e) => error.set(Some(e)),
                    });
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="account-form" aria-label="Profile" on:submit=save>
            <h3 class="section-title">"Profile"</h3>
            <img class="avatar large" alt="Your picture" src=move || avatar.get() hidden=move || avatar.with(String::is_empty) />
            <label for="profile-picture">"Picture"</label>
            <input id="profile-picture" type="file" accept="image/*" on:change=pick aria-busy=move || busy.get().to_string() />
            <label for="profile-name">"Display name"</label>
            <input
                id="profile-name"
                maxlength="64"
                prop:value=display
                on:input=move |ev| display.set(event_target_value(&ev))
            />
            <label for="profile-about">"About"</label>
            <textarea
                id="profile-about"
                maxlength="300"
                rows="3"
                prop:value=about
                on:input=move |ev| about.set(event_target_value(&ev))
            ></textarea>
            <p class="error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
            <p class="hint" role="status" hidden=move || status.with(Option::is_none)>{move || status.get()}</p>
            <button type="submit" class="primary small">"Save profile"</button>
        </form>
    }
}
