//! The pinned messages of the open chat: a "Pinned" button in the chat header, with
//! their count, opening a dialog that lists them newest pin first (author, first line,
//! time); choosing one brings the message into view in the conversation
//! (`ChatStore::show_message`, loading older history if it must).

use super::platform::format_time;
use super::store::ChatStore;
use crate::protocol::MessageId;
use crate::reactions::first_line;
use leptos::prelude::*;

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
    // Opens the chat at the message, loading older pages if it must.
    let go = move |id: MessageId| {
        open.set(false);
        store.show_message(store.current_chat.get_untracked(), id);
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
                        {move || pins.get().into_iter().map(move |p| {
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
                            }).collect_view()}
                    </ul>
                    <button type="button" class="quiet small" autofocus on:click=move |_| open.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}
