//! Reactions under a message: a button per emoji with its count (pressed when it is
//! this user's, named with who put it there), a "React" menu of common emoji with a
//! way into the picker, and "Pin"/"Unpin". The picker is a dialog searching the whole
//! emoji set of Unicode by name; its table comes from the server on first use, never
//! from the app's bundle.

use super::store::ChatStore;
use crate::protocol::MessageId;
use crate::reactions::{is_mine, label, search, QUICK};
use leptos::html;
use leptos::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The names of the quick row's emoji.
const QUICK_NAMES: [&str; 6] = [
    "thumbs up",
    "red heart",
    "face with tears of joy",
    "party popper",
    "face with open mouth",
    "crying face",
];
/// Most emoji the picker shows at once (typing narrows the rest down).
const SHOWN: usize = 400;
/// Emoji per row of the picker's grid (the arrow keys move by rows).
const COLUMNS: usize = 8;

#[component]
pub fn ReactionBar(chat: String, id: MessageId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.user().unwrap_or_default();
    let key = (chat.clone(), id);
    let list = Memo::new(move |_| {
        store
            .reactions
            .by_message
            .with(|all| all.get(&key).cloned().unwrap_or_default())
    });
    let pinned = Memo::new(move |_| {
        store.reactions.pins.with(|p| {
            p.get(&chat)
                .is_some_and(|l| l.iter().any(|p| p.message.message_id == id))
        })
    });
    let menu = RwSignal::new(false);
    let picker = RwSignal::new(false);
    let pick = Callback::new(move |emoji: String| {
        menu.set(false);
        picker.set(false);
        let mine = list.with_untracked(|l| {
            l.iter()
                .any(|r| r.emoji == emoji && is_mine(r, &store.user().unwrap_or_default()))
        });
        store.react(id, emoji, !mine);
    });
    view! {
        <div class="reactions">
            <For
                each=move || list.get()
                key=|r| (r.emoji.clone(), r.users.clone())
                children=move |r| {
                    let mine = is_mine(&r, &me);
                    let name = label(&r);
                    let emoji = r.emoji.clone();
                    view! {
                        <button
                            type="button"
                            class="reaction"
                            aria-pressed=mine.to_string()
                            aria-label=name.clone()
                            title=name
                            on:click=move |_| store.react(id, emoji.clone(), !mine)
                        >
                            <span aria-hidden="true">{r.emoji.clone()}" "{r.users.len()}</span>
                        </button>
                    }
                }
            />
            <span class="message-tools">
                <button
                    type="button"
                    class="quiet small"
                    aria-expanded=move || menu.get().to_string()
                    on:click=move |_| menu.update(|m| *m = !*m)
                >
                    "React"
                </button>
                <button
                    type="button"
                    class="quiet small"
                    on:click=move |_| store.pin(id, !pinned.get_untracked())
                >
                    {move || if pinned.get() { "Unpin" } else { "Pin" }}
                </button>
            </span>
            <Show when=move || menu.get()>
                <div class="react-menu" role="group" aria-label="Quick reactions">
                    {QUICK
                        .iter()
                        .zip(QUICK_NAMES)
                        .map(|(emoji, name)| {
                            let e = emoji.to_string();
                            view! {
                                <button
                                    type="button"
                                    class="quick"
                                    aria-label=format!("React with {emoji} {name}")
                                    title=name
                                    on:click=move |_| pick.run(e.clone())
                                >
                                    {*emoji}
                                </button>
                            }
                        })
                        .collect::<Vec<_>>()}
                    <button
                        type="button"
                        class="quiet small"
                        on:click=move |_| {
                            menu.set(false);
                            picker.set(true);
                        }
                    >
                        "More emoji…"
                    </button>
                </div>
            </Show>
            <Show when=move || picker.get()>
                <EmojiPicker on_pick=pick on_close=Callback::new(move |()| picker.set(false)) />
            </Show>
        </div>
    }
}

/// A dialog to find any emoji by name: a search box, a grid of results (a listbox:
/// arrow keys move, Enter picks, Escape closes; or a click).
#[component]
pub fn EmojiPicker(on_pick: Callback<String>, on_close: Callback<()>) -> impl IntoView {
    static PICKERS: AtomicUsize = AtomicUsize::new(0);
    let store = expect_context::<ChatStore>();
    store.load_emoji();
    let list_id = format!("emoji-list-{}", PICKERS.fetch_add(1, Ordering::Relaxed));
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
        }
    });
    let results = Memo::new(move |_| {
        let q = query.get();
        store.reactions.emoji.with(|t| {
            t.as_ref()
                .map(|t| {
                    search(t, &q, SHOWN)
                        .into_iter()
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let option_id = {
        let list_id = list_id.clone();
        move |i: usize| format!("{list_id}-{i}")
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let count = results.with_untracked(Vec::len);
        let at = active.get_untracked();
        let to = match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                on_close.run(());
                return;
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(e) = results.with_untracked(|r| r.get(at).map(|e| e.0.clone())) {
                    on_pick.run(e);
                }
                return;
            }
            "ArrowRight" => at + 1,
            "ArrowLeft" => at.saturating_sub(1),
            "ArrowDown" => at + COLUMNS,
            "ArrowUp" => at.saturating_sub(COLUMNS),
            _ => return,
        };
        ev.prevent_default();
        if count > 0 {
            active.set(to.min(count - 1));
        }
    };
    let active_id = {
        let option_id = option_id.clone();
        move || (results.with(Vec::len) > 0).then(|| option_id(active.get()))
    };
    let listbox = list_id.clone();
    view! {
        <div class="picker-backdrop" on:click=move |ev| {
            if ev.target() == ev.current_target() {
                on_close.run(());
            }
        }>
            <div class="picker" role="dialog" aria-modal="true" aria-label="Choose an emoji" on:keydown=on_key>
                <input
                    type="search"
                    node_ref=input
                    aria-label="Search emoji by name"
                    placeholder="Search emoji by name"
                    aria-controls=listbox.clone()
                    aria-activedescendant=active_id
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        active.set(0);
                    }
                />
                <div role="listbox" id=listbox aria-label="Emoji" class="emoji-grid" tabindex="0">
                    {let option_id = option_id.clone(); move || { let option_id = option_id.clone(); results.get().into_iter().enumerate().map(move |(i, (emoji, name, _))| {
                            let pick = emoji.clone();
                            view! {
                                <div
                                    role="option"
                                    class="emoji-option"
                                    id=option_id(i)
                                    aria-selected=move || (active.get() == i).to_string()
                                    aria-label=name.clone()
                                    title=name
                                    on:click=move |_| on_pick.run(pick.clone())
                                >
                                    {emoji}
                                </div>
                            }
                        }).collect_view()}}
                </div>
                <p class="picker-status" aria-live="polite">
                    {move || match (store.reactions.emoji.with(Option::is_some), results.with(Vec::len)) {
                        (false, _) => "Loading emoji…".to_owned(),
                        (true, 0) => "No emoji has that name.".to_owned(),
                        (true, SHOWN) => format!("The first {SHOWN}: type to find others."),
                        (true, n) => format!("{n} emoji"),
                    }}
                </p>
                <button type="button" class="quiet small" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </div>
    }
}
