//! The chat screen: the room's messages, live, and the composer.

use super::store::{ChatStore, Link};
use crate::timeline::{Line, LineState};
use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn ChatView(user: String) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // `#General` → `General`.
    let title = move || {
        let chat = store.current_chat.get();
        chat.strip_prefix('#').map(str::to_owned).unwrap_or(chat)
    };
    view! {
        <header class="topbar">
            <span class="brand">"Parlor"</span>
            <span class="me" title="Logged in as">{user}</span>
            <button type="button" class="quiet" on:click=move |_| store.logout()>"Log out"</button>
        </header>
        <main class="room" aria-labelledby="room-title">
            <div class="room-head">
                <h1 id="room-title">{title}</h1>
                <Show when=move || store.link.get() == Link::Reconnecting>
                    <span class="status" role="status">"Reconnecting…"</span>
                </Show>
            </div>
            <MessageList />
            <Show when=move || store.notice.get().is_some()>
                <p class="notice" role="alert">
                    {move || store.notice.get()}
                    <button type="button" class="quiet" aria-label="Dismiss" on:click=move |_| store.notice.set(None)>"×"</button>
                </p>
            </Show>
            <Composer />
        </main>
    }
}

/// The messages of the current chat, oldest first, kept scrolled to the newest while
/// the reader is at the bottom.
#[component]
fn MessageList() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.user().unwrap_or_default();
    let lines = Memo::new(move |_| {
        let chat = store.current_chat.get();
        store
            .timelines
            .with(|t| t.get(&chat).map(|t| t.lines().to_vec()).unwrap_or_default())
    });
    let scroller = NodeRef::<html::Div>::new();
    let at_bottom = StoredValue::new(true);

    Effect::new(move |_| {
        lines.track();
        if at_bottom.get_value() {
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            at_bottom.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 48);
        }
    };

    view! {
        <div class="scroller" node_ref=scroller on:scroll=on_scroll>
            <Show when=move || lines.with(Vec::is_empty)>
                <p class="empty">"No messages yet. Say hello!"</p>
            </Show>
            <ul class="messages" aria-label="Messages">
                <For
                    each=move || lines.get()
                    key=|line| (line.key.clone(), line.state)
                    children=move |line| {
                        let own = line.sender == me;
                        view! { <MessageRow line own /> }
                    }
                />
            </ul>
        </div>
    }
}

#[component]
fn MessageRow(line: Line, own: bool) -> impl IntoView {
    let (time, full) = format_time(line.created_at);
    let state = match line.state {
        LineState::Sent => None,
        LineState::Sending => Some("Sending…"),
        LineState::Failed => Some("Not sent"),
    };
    view! {
        <li
            class="message"
            class:own=own
            class:sending=line.state == LineState::Sending
            class:failed=line.state == LineState::Failed
        >
            <div class="meta">
                <span class="author">{line.sender}</span>
                <time title=full>{time}</time>
                {state.map(|s| view! { <span class="state">{s}</span> })}
            </div>
            // A text node: message text is never interpreted as HTML.
            <p class="text">{line.text}</p>
        </li>
    }
}

/// The message box: Enter sends, Shift+Enter starts a new line.
#[component]
fn Composer() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let text = RwSignal::new(String::new());
    let input = NodeRef::<html::Textarea>::new();
    let send = move || {
        let message = text.get_untracked();
        if message.trim().is_empty() {
            return;
        }
        store.send(message);
        text.set(String::new());
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let placeholder = move || format!("Message {}", store.current_chat.get());
    view! {
        <form class="composer" on:submit=on_submit>
            <label for="composer-input" class="visually-hidden">"Message"</label>
            <textarea
                id="composer-input"
                node_ref=input
                rows="1"
                placeholder=placeholder
                prop:value=text
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <button type="submit" class="primary">"Send"</button>
        </form>
    }
}

/// `HH:MM` in the reader's time zone, and the full local date and time.
fn format_time(millis: crate::protocol::Millis) -> (String, String) {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis as f64));
    let short = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    let full = String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED));
    (short, full)
}
