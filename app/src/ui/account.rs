//! The account panel, opened from the sidebar: change the password (which ends every
//! other session of this user) and log out on every device; for the owner and admins,
//! who may join ([`super::invites`]).

use super::store::ChatStore;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// Characters a new password needs (the server's default `--min-password-length`;
/// the server has the last word).
const MIN_PASSWORD: usize = 8;

/// Deleting one's own account, confirmed with the password (not for the owner, whose
/// server it is). The server then ends every session, which logs this page out.
#[component]
fn DeleteAccount() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        store.delete_account(password.get_untracked(), move |answer| {
            if let Err(e) = answer {
                error.set(Some(e));
            }
        });
    };
    view! {
        <form
            class="account-form"
            aria-label="Delete account"
            on:submit=submit
            hidden=move || store.my_role.get() == crate::protocol::Role::Owner
        >
            <label for="delete-password">"Password, to delete your account"</label>
            <input
                id="delete-password"
                type="password"
                autocomplete="current-password"
                required
                prop:value=password
                on:input=move |ev| password.set(event_target_value(&ev))
            />
            <p class="error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
            <button type="submit" class="small danger">"Delete my account"</button>
        </form>
    }
}

#[component]
pub fn AccountPanel(open: RwSignal<bool>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        done.set(None);
        let (current, next) = (old.get_untracked(), new.get_untracked());
        if next.chars().count() < MIN_PASSWORD {
            error.set(Some(format!(
                "The new password needs at least {MIN_PASSWORD} characters."
            )));
            return;
        }
        if next != confirm.get_untracked() {
            error.set(Some("The two new passwords differ.".to_owned()));
            return;
        }
        error.set(None);
        busy.set(true);
        store.change_password(current, next, move |outcome| {
            busy.set(false);
            match outcome {
                Ok(()) => {
                    old.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    done.set(Some(
                        "Password changed. Your other sessions were logged out.".to_owned(),
                    ));
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let everywhere = move |_| {
        error.set(None);
        store.logout_everywhere(move |message| error.set(Some(message)));
    };

    view! {
        <section class="account-panel" id="account-panel" aria-labelledby="account-title">
            <div class="section-head">
                <h2 id="account-title" class="section-title">"Account"</h2>
                <button type="button" class="quiet small" aria-label="Close the account panel" on:click=move |_| open.set(false)>
                    "×"
                </button>
            </div>
            <super::profile::ProfileForm />
            <super::device::DevicePanel />
            <form class="account-form" on:submit=submit aria-label="Change password">
                <label for="account-old">"Current password"</label>
                <input
                    id="account-old"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=old
                    on:input=move |ev| old.set(event_target_value(&ev))
                />
                <label for="account-new">"New password"</label>
                <input
                    id="account-new"
                    type="password"
                    autocomplete="new-password"
                    required
                    prop:value=new
                    on:input=move |ev| new.set(event_target_value(&ev))
                />
                <label for="account-confirm">"Confirm new password"</label>
                <input
                    id="account-confirm"
                    type="password"
                    autocomplete="new-password"
                    required
                    prop:value=confirm
                    on:input=move |ev| confirm.set(event_target_value(&ev))
                />
                <p class="error" role="alert">{move || error.get()}</p>
                <p class="hint" role="status">{move || done.get()}</p>
                <button type="submit" class="primary small" aria-busy=move || busy.get().to_string() disabled=move || busy.get()>
                    "Change password"
                </button>
            </form>
            <button type="button" class="quiet small" on:click=everywhere>"Log out everywhere"</button>
            <DeleteAccount />
            <Show when=move || store.my_role.get().manages()>
                <super::invites::InvitePanel />
                <super::admin::AdminPanel />
            </Show>
        </section>
    }
}
