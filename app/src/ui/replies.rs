//! Replies in the web app: the "Reply" action of a message, the composer's "Replying
//! to NAME" note with its cancel button, and the compact quote above a reply (author
//! and first line, or "deleted"), a button that brings the original into view through
//! [`ChatStore::show_message`], loading older history if it must.

use super::store::ChatStore;
use crate::protocol::{excerpt, MessageId, ReplyQuote};
use leptos::prelude::*;

/// The quote above a reply's text.
pub fn quote_view(quote: ReplyQuote, chat_id: String) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let id = quote.message_id;
    // The accessible name is the visible text with a hidden lead-in ("Show the
    // message from alice: first line"), so that what is seen is what is named.
    let (lead, shown) = if quote.deleted {
        (
            "Show the deleted message from ",
            "Message deleted".to_owned(),
        )
    } else {
        ("Show the message from ", quote.excerpt.clone())
    };
    view! {
        <button
            type="button"
            class="reply-quote"
            class:gone=quote.deleted
            on:click=move |_| store.show_message(chat_id.clone(), id)
        >
            <span class="visually-hidden">{lead}</span>
            <span class="quote-author">{format!("{}:", quote.sender)}</span>
            <span class="visually-hidden">" "</span>
            <span class="quote-excerpt">{shown}</span>
        </button>
    }
}

/// The "Reply" action of a stored message: the composer answers it next.
pub fn reply_button(id: MessageId, sender: String, text: String) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let label = format!("Reply to {sender}");
    view! {
        <button
            type="button"
            class="quiet small"
            aria-label=label
            on:click=move |_| {
                store.editing.set(None);
                store.replying.set(Some(ReplyQuote {
                    message_id: id,
                    sender: sender.clone(),
                    excerpt: excerpt(&text),
                    deleted: false,
                }));
                focus_composer();
            }
        >"Reply"</button>
    }
}

fn focus_composer() {
    use wasm_bindgen::JsCast;
    let input = super::platform::document()
        .and_then(|d| d.get_element_by_id("composer-input"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(input) = input {
        let _ = input.focus();
    }
}

/// The composer's note while a reply is being written: whom it answers, and a cancel
/// button (Escape cancels too).
#[component]
pub fn ReplyNote() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    // Another chat: the reply is dropped (it may only answer a message of its chat).
    Effect::new(move |prev: Option<String>| {
        let chat = store.current_chat.get();
        if prev.is_some_and(|p| p != chat) {
            store.replying.set(None);
        }
        chat
    });
    move || {
        store.replying.get().map(|q| {
            view! {
                <div class="composer-note reply-note">
                    <span>"Replying to "<strong>{q.sender.clone()}</strong></span>
                    <span class="quote-excerpt">{q.excerpt.clone()}</span>
                    <button
                        type="button"
                        class="quiet small"
                        aria-label="Cancel reply"
                        on:click=move |_| store.replying.set(None)
                    >"Cancel"</button>
                </div>
            }
        })
    }
}
