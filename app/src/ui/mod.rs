//! The Leptos web app (client-side rendered, built by trunk from `frontend/`).
//!
//! [`store`] owns the connection and all state; the views ([`login`], [`chat`],
//! [`sidebar`], [`search`], [`messages`], [`composer`], [`account`]) only read its signals and call
//! its methods.

pub mod account;
pub mod admin;
pub mod attachments;
pub mod chat;
pub mod composer;
pub mod connection;
pub mod device;
pub mod invites;
pub mod login;
pub mod mention_picker;
pub mod messages;
pub mod notify_level;
pub mod pins;
pub mod platform;
pub mod position;
pub mod profile;
pub mod reactions;
pub mod replies;
pub mod reveal;
pub mod rich;
pub mod room_settings;
pub mod search;
pub mod sidebar;
pub mod store;
pub mod upload;

use leptos::prelude::*;
use store::{ChatStore, Session};

/// The whole app: the login form, or the chat once logged in.
#[component]
pub fn App() -> impl IntoView {
    let store = ChatStore::new();
    provide_context(store);
    store.start();
    // Only a change of user swaps the screens (not LoggedOut → LoggingIn).
    let user = Memo::new(move |_| match store.session.get() {
        Session::LoggedIn { user } => Some(user),
        _ => None,
    });
    view! {
        <div class="app">
            {move || match user.get() {
                Some(user) => view! { <chat::ChatView user=user /> }.into_any(),
                None => view! { <login::LoginView /> }.into_any(),
            }}
        </div>
    }
}
