//! The chat screen: the sidebar (chats, people, own status), and the open chat with
//! its header, connection banner, messages, typing line and composer.

use super::composer::Composer;
use super::messages::MessageList;
use super::sidebar::{Sidebar, StatusDot};
use super::store::{ChatStore, Link, GENERAL};
use crate::protocol::Status;
use crate::text::{chat_title, is_room, typing_text};
use leptos::prelude::*;

#[component]
pub fn ChatView(user: String) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let drawer = store.drawer_open;
    // Escape closes the phone drawer.
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && drawer.get_untracked() {
            drawer.set(false);
        }
    };
    // Logging in removed the focused login form; like a page load, the keyboard's next
    // Tab starts at the top of this screen (the skip link), wherever the browser put
    // the removed form's place among the new elements.
    let shell = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(el) = shell.get() else { return };
        let lost = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .is_none_or(|a| a.tag_name().eq_ignore_ascii_case("body"));
        if lost && el.set_attribute("tabindex", "-1").is_ok() {
            let _ = el.focus();
            let _ = el.blur();
            let _ = el.remove_attribute("tabindex");
        }
    });
    view! {
        <div class="shell" node_ref=shell class:drawer-open=move || drawer.get() on:keydown=on_keydown>
            <a class="skip-link" href="#composer-input">"Skip to the message box"</a>
            <Sidebar user=user />
            <main class="room" aria-labelledby="room-title">
                <RoomHeader />
                <ConnectionBanner />
                <super::position::NewMessagesBar />
                <MessageList />
                <super::position::JumpToLatest />
                <TypingLine />
                <Show when=move || store.notice.get().is_some()>
                    <p class="notice" role="alert">
                        <span>{move || store.notice.get()}</span>
                        <button type="button" class="quiet" aria-label="Dismiss" on:click=move |_| store.notice.set(None)>"×"</button>
                    </p>
                </Show>
                <Composer />
            </main>
        </div>
    }
}

/// The open chat's name, its members or the other user's presence, and actions.
#[component]
fn RoomHeader() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let chat = store.current_chat;
    let title = move || chat_title(&chat.get()).to_owned();
    let room = move || is_room(&chat.get());
    let members_open = RwSignal::new(false);
    Effect::new(move |_| {
        chat.track();
        members_open.set(false);
    });
    let members = Memo::new(move |_| {
        let chat = chat.get();
        store
            .members
            .with(|m| m.get(&chat).cloned().unwrap_or_default())
    });
    let unread_elsewhere = move || {
        let current = chat.get();
        store.chats.with(|c| {
            c.iter()
                .filter(|e| e.chat_id != current)
                .map(|e| e.unread)
                .sum::<u64>()
        })
    };
    let other_status = move || {
        let chat = chat.get();
        store
            .users
            .with(|u| u.get(&chat).copied().unwrap_or(Status::Offline))
    };
    view! {
        <header class="room-head">
            <button
                type="button"
                class="menu-button"
                aria-controls="sidebar"
                aria-expanded=move || store.drawer_open.get().to_string()
                aria-label=move || match unread_elsewhere() {
                    0 => "Chats".to_owned(),
                    n => format!("Chats, {n} unread"),
                }
                on:click=move |_| store.drawer_open.update(|o| *o = !*o)
            >
                <span aria-hidden="true">"☰"</span>
                <Show when=move || unread_elsewhere() != 0>
                    <span class="badge" aria-hidden="true">{unread_elsewhere}</span>
                </Show>
            </button>
            <h1 id="room-title">
                {move || if room() {
                    view! { <span class="hash" aria-hidden="true">"#"</span> }.into_any()
                } else {
                    view! { <StatusDot status=Signal::derive(other_status) /> }.into_any()
                }}
                <span class="title-text">{title}</span>
            </h1>
            <super::room_settings::RoomTopic />
            <Show when=move || !room()>
                <span class="head-status">{move || status_label(other_status())}</span>
            </Show>
            <div class="head-actions">
                <super::pins::PinnedButton />
                <super::notify_level::NotifySelect />
                <super::room_settings::RoomSettings />
                <BlockButton />
                <Show when=room>
                    <button
                        type="button"
                        class="quiet"
                        aria-expanded=move || members_open.get().to_string()
                        aria-controls="members"
                        on:click=move |_| members_open.update(|o| *o = !*o)
                    >
                        {move || match members.with(Vec::len) {
                            1 => "1 member".to_owned(),
                            n => format!("{n} members"),
                        }}
                    </button>
                </Show>
                <Show when=move || room() && !chat.get().eq_ignore_ascii_case(GENERAL)>
                    <button
                        type="button"
                        class="quiet"
                        on:click=move |_| store.leave_room(chat.get_untracked())
                    >
                        "Leave room"
                    </button>
                </Show>
            </div>
            <Show when=move || members_open.get() && room()>
                <div class="popover" id="members">
                    <h2 class="section-title">"Members"</h2>
                    <ul aria-label="Members" class="people-list">
                        {move || members.get().into_iter().map(move |name| {
                                let n = name.clone();
                                let status = Signal::derive(move || {
                                    store.users.with(|u| u.get(&n).copied().unwrap_or(Status::Offline))
                                });
                                let open = name.clone();
                                view! {
                                    <li>
                                        <button type="button" class="person" on:click=move |_| store.open_direct(open.clone())>
                                            <StatusDot status=status />
                                            <span class="person-name">{name.clone()}</span>
                                            <span class="person-status">{move || status_label(status.get())}</span>
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                    </ul>
                </div>
            </Show>
        </header>
    }
}

/// In a direct chat: block the other person (no direct messages either way; their
/// room messages folded away), or lift the block.
#[component]
fn BlockButton() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let chat = store.current_chat;
    let other = move || {
        let c = chat.get();
        let me = store.user().unwrap_or_default();
        (!is_room(&c) && !c.eq_ignore_ascii_case(&me)).then_some(c)
    };
    let blocked = move || other().is_some_and(|o| store.is_blocked(&o));
    view! {
        <button
            type="button"
            class="quiet"
            hidden=move || other().is_none()
            aria-pressed=move || blocked().to_string()
            on:click=move |_| {
                if let Some(o) = other() {
                    store.block(o, !blocked());
                }
            }
        >
            {move || if blocked() { "Unblock" } else { "Block" }}
        </button>
    }
}

pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Online => "online",
        Status::Away => "away",
        Status::Busy => "busy",
        Status::Offline => "offline",
    }
}

/// Shown while the server is out of reach.
#[component]
fn ConnectionBanner() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let text = move || match store.link.get() {
        Link::Online => None,
        Link::Connecting => Some("Connecting…"),
        Link::Reconnecting => Some("Connection lost. Reconnecting…"),
        Link::Offline => {
            Some("You are offline. Messages you write are sent when the network is back.")
        }
    };
    view! {
        <div class="banner-slot" role="status">
            <Show when=move || text().is_some()>
                <div class="banner" class:offline=move || store.link.get() == Link::Offline>
                    <span>{text}</span>
                    <Show when=move || store.link.get() == Link::Reconnecting>
                        <button type="button" class="quiet" on:click=move |_| store.retry_now()>"Retry now"</button>
                    </Show>
                </div>
            </Show>
        </div>
    }
}

/// "bob is typing…" for the open chat.
#[component]
fn TypingLine() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let text = move || typing_text(&store.typists(&store.current_chat.get()));
    view! { <p class="typing" aria-live="polite">{text}</p> }
}
