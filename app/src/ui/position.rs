//! The reader's position in the open chat: the "New messages" divider above the first
//! unread message, a bar offering to jump to it while it is out of view, and a "Jump
//! to latest" button while the list is scrolled away from its end. Where the divider
//! goes is decided in the store ([`super::store::LeftOff`]).

use super::platform;
use super::store::ChatStore;
use crate::protocol::MessageId;
use crate::reading::first_unread;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Places the divider once its message is loaded, and again when messages arrive
/// unread in the open chat while none was marked (the page was hidden).
pub fn track_divider(store: ChatStore) {
    let me = store.user().unwrap_or_default();
    Effect::new(move |_| {
        let chat = store.current_chat.get();
        let Some(left) = store.left_off.get().filter(|l| l.chat_id == chat) else {
            return;
        };
        if left.divider.is_some() {
            return;
        }
        let unread = if left.unread > 0 {
            left.unread
        } else if left.dismissed {
            return;
        } else {
            // New messages came while the reader was away: they start a divider.
            let now = store
                .chats
                .with(|c| c.iter().find(|e| e.chat_id == chat).map_or(0, |e| e.unread));
            if now == 0 {
                return;
            }
            store.left_off.update(|l| {
                if let Some(l) = l.as_mut() {
                    l.unread = now;
                }
            });
            now
        };
        let first = store.timelines.with(|t| {
            t.get(&chat)
                .and_then(|t| first_unread(t.lines(), &me, unread))
        });
        if let Some(id) = first {
            store.place_divider(id);
        }
    });
}

/// The divider, shown above the message `message_id` when it is the first unread. It
/// tells the store whether it is on screen (an `IntersectionObserver`, which also sees
/// the list's own clipping), so that the offer to jump to it shows only when it is not.
#[component]
pub fn UnreadDivider(message_id: Option<MessageId>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let here = move || {
        message_id.is_some()
            && store
                .left_off
                .with(|l| l.as_ref().and_then(|l| l.divider) == message_id)
    };
    view! {
        <Show when=here>
            <DividerLine />
        </Show>
    }
}

#[component]
fn DividerLine() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let line = NodeRef::<leptos::html::Div>::new();
    // The observer lives as long as the line (cleaned up with this component, not
    // with the one-shot effect that `on_load` runs in).
    let kept = StoredValue::new_local(None::<Watch>);
    on_cleanup(move || {
        let _ = kept.try_update_value(|k| {
            if let Some((observer, _)) = k.take() {
                observer.disconnect();
            }
        });
        store.divider_seen(false);
    });
    line.on_load(move |el| {
        let on_change = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let seen = entries
                .iter()
                .filter_map(|e| e.dyn_into::<web_sys::IntersectionObserverEntry>().ok())
                .next_back()
                .is_some_and(|e| e.is_intersecting());
            store.divider_seen(seen);
        });
        match web_sys::IntersectionObserver::new(on_change.as_ref().unchecked_ref()) {
            Ok(observer) => {
                observer.observe(&el);
                let _ = kept.try_update_value(|k| *k = Some((observer, on_change)));
            }
            Err(e) => web_sys::console::warn_2(&"parlor: cannot watch the divider:".into(), &e),
        }
    });
    view! {
        <div class="unread-divider" role="separator" aria-label="New messages" node_ref=line>
            <span aria-hidden="true">"New messages"</span>
        </div>
    }
}

/// An observer and the callback it calls.
type Watch = (
    web_sys::IntersectionObserver,
    Closure<dyn FnMut(js_sys::Array)>,
);

/// "N new messages": jumps to the first unread while it is out of view.
#[component]
pub fn NewMessagesBar() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let unread = move || {
        let chat = store.current_chat.get();
        store.left_off.with(|l| {
            l.as_ref()
                .filter(|l| l.chat_id == chat && !l.dismissed && !l.in_view)
                .map_or(0, |l| l.unread)
        })
    };
    let label = move || match unread() {
        1 => "1 new message".to_owned(),
        n => format!("{n} new messages"),
    };
    view! {
        <Show when=move || { unread() > 0 }>
            <div class="new-messages" role="status">
                <span>{label}</span>
                <button type="button" class="quiet small" on:click=move |_| {
                    store.show_first_unread();
                    store.dismiss_left_off();
                }>"Jump to first unread"</button>
                <button type="button" class="quiet small" aria-label="Dismiss new messages" on:click=move |_| store.dismiss_left_off()>"×"</button>
            </div>
        </Show>
    }
}

/// "Jump to latest", while the list is scrolled away from its newest message.
#[component]
pub fn JumpToLatest() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    view! {
        <Show when=move || !store.at_bottom.get()>
            <button type="button" class="jump-latest" on:click=move |_| {
                platform::scroll_messages_to_end();
                store.at_bottom.set(true);
                store.maybe_read();
            }>"Jump to latest"</button>
        </Show>
    }
}
