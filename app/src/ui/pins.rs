//! The pinned messages of the open chat: a "Pinned" button in the chat header, with
//! their count, opening a dialog that lists them newest pin first (author, first line,
//! time); choosing one brings the message into view in the conversation.

use super::platform::format_time;
use super::store::ChatStore;
use crate::protocol::MessageId;
use crate::reactions::first_line;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn PinnedButton() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let open = RwSignal::new(false);
    let pins = Memo::new(move |_| {
        let chat = store.current_chat.get();
        store
            .reactions
            .pins
            .with(|p| p.get(&chat).cloned().unwrap_or_default())
    });
    let go = move |id: MessageId| {
        open.set(false);
        if !show_message(id) {
            store.notice.set(Some(
                "That message is further up: load older messages to see it.".into(),
            ));
        }
    };
    view! {
        <button
            type="button"
            class="quiet"
            aria-haspopup="dialog"
            on:click=move |_| open.set(true)
        >
            {move || format!("Pinned ({})", pins.with(Vec::len))}
        </button>
        <Show when=move || open.get()>
            <div class="picker-backdrop" on:click=move |ev| {
                if ev.target() == ev.current_target() {
                    open.set(false);
                }
            }>
                <div
                    class="picker pinned"
                    role="dialog"
                    aria-modal="true"
                    aria-label="Pinned messages"
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            open.set(false);
                        }
                    }
                >
                    <h2 class="section-title">"Pinned messages"</h2>
                    <Show when=move || pins.with(Vec::is_empty)>
                        <p class="empty">"Nothing is pinned in this chat."</p>
                    </Show>
                    <ul aria-label="Pinned messages" class="pin-list">
                        <For
                            each=move || pins.get()
                            key=|p| (p.message.message_id, p.pinned_at)
                            children=move |p| {
                                let id = p.message.message_id;
                                let (time, full) = format_time(p.message.created_at);
                                let line = first_line(&p);
                                let by = format!("pinned by {}", p.pinned_by);
                                view! {
                                    <li>
                                        <button type="button" class="pin-entry" on:click=move |_| go(id)>
                                            <span class="author">{p.message.sender.clone()}</span>
                                            " "
                                            <time title=full>{time}</time>
                                            <span class="pin-text">{line}</span>
                                            <span class="pin-by">{by}</span>
                                        </button>
                                    </li>
                                }
                            }
                        />
                    </ul>
                    <button type="button" class="quiet small" autofocus on:click=move |_| open.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}

/// Scrolls message `id` into view and focuses it, if it is in the list; `false` if not.
pub fn show_message(id: MessageId) -> bool {
    let Some(doc) = super::platform::document() else {
        return false;
    };
    let selector = format!("li.message[data-message-id=\"{id}\"]");
    let Ok(Some(el)) = doc.query_selector(&selector) else {
        return false;
    };
    el.scroll_into_view();
    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
    true
}
