//! The sidebar: own name and status, rooms, direct messages and people. On a phone it
//! is a drawer over the chat.

use super::account::AccountPanel;
use super::chat::status_label;
use super::store::{ChatEntry, ChatStore};
use crate::protocol::Status;
use crate::text::is_room;
use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;

/// A presence dot; its meaning is also given as text next to it where it matters.
#[component]
pub fn StatusDot(#[prop(into)] status: Signal<Status>) -> impl IntoView {
    view! { <span class=move || format!("dot {}", status_label(status.get())) aria-hidden="true"></span> }
}

#[component]
pub fn Sidebar(user: String) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = user.clone();
    let my_status = move || store.my_status.get();
    let account_open = RwSignal::new(false);
    // Phone drawer: focus moves into it when it opens.
    let close_button = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if store.drawer_open.get() {
            if let Some(b) = close_button.get_untracked() {
                let _ = b.focus();
            }
        }
    });
    view! {
        <aside class="sidebar" id="sidebar" aria-label="Chats and people">
            <div class="side-head">
                <span class="brand">"Parlor"</span>
                <button
                    type="button"
                    node_ref=close_button
                    class="quiet close-drawer"
                    aria-label="Close the chat list"
                    on:click=move |_| store.drawer_open.set(false)
                >
                    "×"
                </button>
            </div>
            <div class="me-card">
                <StatusDot status=Signal::derive(my_status) />
                <span class="me" title="Logged in as">{me}</span>
                <label for="status-select" class="visually-hidden">"Status"</label>
                <select
                    id="status-select"
                    on:change=move |ev| {
                        if let Some(s) = Status::parse(&event_target_value(&ev)) {
                            store.set_status(s);
                        }
                    }
                    prop:value=move || my_status().as_str()
                >
                    <option value="online">"Online"</option>
                    <option value="away">"Away"</option>
                    <option value="busy">"Busy"</option>
                    <option value="offline">"Invisible"</option>
                </select>
                <button
                    type="button"
                    class="quiet"
                    aria-expanded=move || account_open.get().to_string()
                    aria-controls="account-panel"
                    on:click=move |_| account_open.update(|o| *o = !*o)
                >
                    "Account"
                </button>
                <button type="button" class="quiet" on:click=move |_| store.logout()>"Log out"</button>
            </div>
            <Show when=move || account_open.get()>
                <AccountPanel open=account_open />
            </Show>
            <super::search::SearchBox />
            <nav class="chat-nav" aria-label="Chats">
                <Rooms />
                <DirectChats />
            </nav>
            <People user=user />
            <Show when=move || store.notifications.get().as_deref() == Some("default")>
                <button type="button" class="quiet notify-button" on:click=move |_| store.ask_notifications()>
                    "Turn on notifications"
                </button>
            </Show>
        </aside>
    }
}

/// One chat in a list: name, unread badge, current marker.
#[component]
fn ChatLink(entry: ChatEntry) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let chat_id = entry.chat_id.clone();
    let id = chat_id.clone();
    let current = move || store.current_chat.get() == id;
    let room = is_room(&chat_id);
    let open = chat_id.clone();
    let name = entry.name.clone();
    let unread = entry.unread;
    let has_unread = unread != 0;
    let status = Signal::derive(move || {
        store
            .users
            .with(|u| u.get(&chat_id).copied().unwrap_or(Status::Offline))
    });
    view! {
        <li>
            <button
                type="button"
                class="chat-link"
                class:unread=has_unread
                aria-current=move || if current() { Some("page") } else { None }
                on:click=move |_| store.select_chat(open.clone())
            >
                {if room {
                    view! { <span class="hash" aria-hidden="true">"#"</span> }.into_any()
                } else {
                    view! { <StatusDot status=status /> }.into_any()
                }}
                <span class="chat-name">{name}</span>
                {has_unread.then(|| view! {
                    <span class="badge">{unread}<span class="visually-hidden">" unread"</span></span>
                })}
            </button>
        </li>
    }
}

#[component]
fn Rooms() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let rooms = Memo::new(move |_| {
        store.chats.with(|c| {
            c.iter()
                .filter(|e| is_room(&e.chat_id))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let creating = RwSignal::new(false);
    let browsing = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    // A limited account is in the rooms it is added to: it neither creates nor joins.
    let limited = move || store.my_role.get() == crate::protocol::Role::Limited;
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if creating.get() {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_owned();
        if n.is_empty() {
            return;
        }
        error.set(None);
        store.create_room(n, private.get_untracked(), move |e| error.set(Some(e)));
        name.set(String::new());
        private.set(false);
        creating.set(false);
    };
    let joinable = Memo::new(move |_| {
        store
            .rooms
            .with(|r| r.iter().filter(|r| !r.joined).cloned().collect::<Vec<_>>())
    });
    view! {
        <section class="side-section">
            <div class="section-head">
                <h2 class="section-title">"Rooms"</h2>
                <button
                    type="button"
                    class="quiet small"
                    hidden=limited
                    aria-expanded=move || creating.get().to_string()
                    on:click=move |_| creating.update(|c| *c = !*c)
                >
                    "New room"
                </button>
            </div>
            <Show when=move || creating.get()>
                <form class="inline-form" on:submit=submit>
                    <input
                        node_ref=input
                        aria-label="Room name"
                        placeholder="Room name"
                        maxlength="64"
                        prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Escape" {
                                ev.stop_propagation();
                                creating.set(false);
                            }
                        }
                    />
                    <label class="check">
                        <input type="checkbox" prop:checked=private on:change=move |ev| private.set(event_target_checked(&ev)) />
                        "Private"
                    </label>
                    <button type="submit" class="primary small">"Create"</button>
                </form>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <ul class="chat-list" aria-label="Rooms">
                <For
                    each=move || rooms.get()
                    key=|e| (e.chat_id.clone(), e.name.clone(), e.unread)
                    children=|entry| view! { <ChatLink entry /> }
                />
            </ul>
            <button
                type="button"
                class="quiet small"
                hidden=limited
                aria-expanded=move || browsing.get().to_string()
                on:click=move |_| {
                    if !browsing.get_untracked() {
                        store.refresh_rooms();
                    }
                    browsing.update(|b| *b = !*b);
                }
            >
                "Browse rooms"
            </button>
            <Show when=move || browsing.get()>
                <ul class="chat-list browse" aria-label="Not joined yet">
                    {move || joinable.get().into_iter().map(move |room| {
                            let id = room.chat_id.clone();
                            view! {
                                <li class="browse-room">
                                    <span class="chat-name"><span class="hash" aria-hidden="true">"#"</span>{room.name.clone()}</span>
                                    <span class="muted small">{format!("{} members", room.members)}</span>
                                    <button type="button" class="small" on:click=move |_| store.join_room(id.clone())>
                                        "Join"<span class="visually-hidden">{format!(" {}", room.name)}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    <Show when=move || joinable.with(Vec::is_empty)>
                        <li class="muted small">"You are in every room."</li>
                    </Show>
                </ul>
            </Show>
        </section>
    }
}

#[component]
fn DirectChats() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let directs = Memo::new(move |_| {
        store.chats.with(|c| {
            c.iter()
                .filter(|e| !is_room(&e.chat_id))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="side-section">
            <h2 class="section-title">"Direct chats"</h2>
            <ul class="chat-list" aria-label="Direct chats">
                <For
                    each=move || directs.get()
                    key=|e| (e.chat_id.clone(), e.unread)
                    children=|entry| view! { <ChatLink entry /> }
                />
            </ul>
            <Show when=move || directs.with(Vec::is_empty)>
                <p class="muted small">"Pick someone below to start a conversation."</p>
            </Show>
        </section>
    }
}

/// Everyone, in two groups: who is around (online, away, busy) and who is not.
/// Picking someone opens the direct chat.
#[component]
fn People(user: String) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let people = Memo::new(move |_| {
        let mut list: Vec<(String, Status)> = store
            .users
            .with(|u| u.iter().map(|(n, s)| (n.clone(), *s)).collect());
        // Most available first: Online, Away, Busy, Offline.
        crate::case::sort_by_name(&mut list, |(n, s)| (Status::Online as u8 - *s as u8, n));
        list
    });
    let around = Memo::new(move |_| {
        people.with(|p| {
            p.iter()
                .filter(|(_, s)| *s != Status::Offline)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let away = Memo::new(move |_| {
        people.with(|p| {
            p.iter()
                .filter(|(_, s)| *s == Status::Offline)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let show_offline = RwSignal::new(true);
    let me = StoredValue::new(user);
    view! {
        <section class="side-section people" aria-label="Online">
            <h2 class="section-title">"Online " <span class="muted">{move || format!("· {}", around.with(Vec::len))}</span></h2>
            <PeopleList people=around me=me />
        </section>
        <Show when=move || !away.with(Vec::is_empty)>
            <section class="side-section people" aria-label="Offline">
                <div class="section-head">
                    <h2 class="section-title">"Offline " <span class="muted">{move || format!("· {}", away.with(Vec::len))}</span></h2>
                    <button
                        type="button"
                        class="quiet small"
                        aria-expanded=move || show_offline.get().to_string()
                        on:click=move |_| show_offline.update(|s| *s = !*s)
                    >
                        {move || if show_offline.get() { "Hide" } else { "Show" }}
                    </button>
                </div>
                <Show when=move || show_offline.get()>
                    <PeopleList people=away me=me />
                </Show>
            </section>
        </Show>
    }
}

#[component]
fn PeopleList(people: Memo<Vec<(String, Status)>>, me: StoredValue<String>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    view! {
        <ul class="people-list">
            {move || people.get().into_iter().map(move |(name, status)| {
                    let you = me.with_value(|m| name.eq_ignore_ascii_case(m));
                    let open = name.clone();
                    view! {
                        <li class:offline=status == Status::Offline>
                            <button
                                type="button"
                                class="person"
                                title=format!("Message {name}")
                                on:click=move |_| store.open_direct(open.clone())
                            >
                                <StatusDot status=Signal::derive(move || status) />
                                <span class="person-name">{name.clone()}{you.then_some(" (you)")}</span>
                                <span class="person-status">{status_label(status)}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
        </ul>
    }
}
