//! The login form. Logging in with an unknown username registers it; opened from an
//! invitation's link (`/invite/CODE`), the same form signs up with that invitation;
//! from a password reset link (`/reset/CODE`), it sets a new password.

use super::store::{ChatStore, Session};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[component]
pub fn LoginView() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = move || store.session.get() == Session::LoggingIn;
    let invite = super::platform::invite_code();
    let reset = super::platform::reset_code();
    let invited = invite.is_some();
    let resetting = reset.is_some();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = username.get_untracked().trim().to_owned();
        if name.is_empty() || busy() {
            return;
        }
        store.login(
            name,
            password.get_untracked(),
            invite.clone(),
            reset.clone(),
        );
    };

    view! {
        <main class="login">
            <form class="card" on:submit=submit aria-labelledby="login-title">
                <h1 id="login-title" class="brand">"Parlor"</h1>
                <p class="hint">
                    {if resetting {
                        "Type your username and choose a new password."
                    } else if invited {
                        "You are invited. Choose a name and a password for your account."
                    } else {
                        "New here? Choose a name and a password: your account is created when you first log in."
                    }}
                </p>
                <label for="login-username">"Username"</label>
                <input
                    id="login-username"
                    name="username"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    maxlength="32"
                    required
                    prop:value=username
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="password"
                    type="password"
                    autocomplete=if invited || resetting { "new-password" } else { "current-password" }
                    required
                    prop:value=password
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <p class="error" role="alert">{move || store.login_error.get()}</p>
                <button type="submit" class="primary" aria-busy=move || busy().to_string() disabled=busy>
                    {if resetting { "Set new password" } else if invited { "Sign up" } else { "Log in" }}
                </button>
            </form>
        </main>
    }
}
