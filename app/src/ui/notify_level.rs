//! The chat header's "Notifications" control: how much of the open chat notifies this
//! user (every message, only mentions of them or `@room`, or nothing), stored by the
//! server (`setNotify`) and followed by the desktop notifications (`store::notify`).

use super::store::ChatStore;
use crate::protocol::NotifyLevel;
use leptos::prelude::*;

#[component]
pub fn NotifySelect() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let level = move || {
        let chat = store.current_chat.get();
        store.chats.with(|c| crate::chats::notify_level(c, &chat))
    };
    let on_change = move |ev| {
        if let Some(level) = NotifyLevel::parse(&event_target_value(&ev)) {
            store.set_notify(level);
        }
    };
    let option = move |value: NotifyLevel, label: &'static str| {
        view! {
            <option value=value.as_str() selected=move || level() == value>{label}</option>
        }
    };
    view! {
        <select
            class="notify-select"
            aria-label="Notifications"
            title="Notifications"
            prop:value=move || level().as_str()
            on:change=on_change
        >
            {option(NotifyLevel::All, "All messages")}
            {option(NotifyLevel::Mentions, "Mentions only")}
            {option(NotifyLevel::None, "Nothing")}
        </select>
    }
}
