//! The message list of the open chat: grouped by sender and day, links clickable,
//! images inline, receipts, edit and delete of own messages, and older pages loaded
//! when scrolling up.

use super::platform::{day_label, format_time, local_day};
use super::reactions::ReactionBar;
use super::store::ChatStore;
use crate::protocol::MessageId;
use crate::receipts::{dm_mark, seen_by};
use crate::text::{is_room, seen_by_text};
use crate::timeline::{layout, Layout, Line, LineState};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

/// One row to render: the line and how it is laid out.
#[derive(Clone, PartialEq)]
struct Row {
    line: Line,
    layout: Layout,
}

#[component]
pub fn MessageList() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.user().unwrap_or_default();
    let rows = Memo::new(move |_| {
        let chat = store.current_chat.get();
        store.timelines.with(|t| {
            let lines = t.get(&chat).map(|t| t.lines().to_vec()).unwrap_or_default();
            let layouts = layout(&lines, local_day);
            lines
                .into_iter()
                .zip(layouts)
                .map(|(line, layout)| Row { line, layout })
                .collect::<Vec<_>>()
        })
    });
    let has_older = Memo::new(move |_| {
        let chat = store.current_chat.get();
        store
            .timelines
            .with(|t| t.get(&chat).is_some_and(|t| t.has_older == Some(true)))
    });
    // The newest own message in a room shows "seen by".
    let me_for_last = me.clone();
    let last_own = Memo::new(move |_| {
        rows.with(|r| {
            r.iter()
                .rev()
                .find(|r| r.line.sender.eq_ignore_ascii_case(&me_for_last) && !r.line.deleted)
                .and_then(|r| r.line.message_id)
        })
    });
    let scroller = NodeRef::<html::Div>::new();
    let list = NodeRef::<html::Ul>::new();
    // The position this list scrolled itself to: its own scroll events must not count
    // as the reader leaving the end (the content may have grown in between).
    let own_scroll = StoredValue::new(None::<i32>);
    let to_bottom = move |el: &web_sys::HtmlDivElement| {
        el.set_scroll_top(el.scroll_height());
        own_scroll.set_value(Some(el.scroll_top()));
    };
    // Whatever changes the height (images, receipts, fonts, the phone keyboard): a
    // reader at the end stays at the end.
    Effect::new(move |_| {
        let (Some(el), Some(list)) = (scroller.get(), list.get()) else {
            return;
        };
        let target = el.clone();
        let on_resize = Closure::<dyn FnMut()>::new(move || {
            // Not while a message is being brought into view.
            if store.at_bottom.get_untracked() && store.focus.get_untracked().is_none() {
                to_bottom(&target);
            }
        });
        if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
            observer.observe(&list);
            observer.observe(&el);
        }
        // Lives as long as the list (one per login).
        on_resize.forget();
    });
    // Distance from the bottom to keep while an older page is put above.
    let anchor = StoredValue::new(None::<i32>);
    let first_key = StoredValue::new(None::<String>);
    // Whether this chat's first page has been put in place (at its end, or at the
    // message asked for). Until then a scroll event is the list's own (a chat just
    // opened is clamped to the top before its first page is positioned), not the
    // reader asking for older messages.
    let positioned = StoredValue::new(false);

    Effect::new(move |_| {
        let first = rows.with(|r| r.first().map(|r| r.line.key.clone()));
        let prepended = first_key.get_value().is_some() && first != first_key.get_value();
        first_key.set_value(first);
        let keep = anchor.get_value().filter(|_| prepended);
        if keep.is_some() {
            anchor.set_value(None);
        }
        // At the end before this change (by the flag, or by measure): stay there.
        // A message being brought into view wins over staying at the end.
        let stick = store.focus.get_untracked().is_none()
            && (store.at_bottom.get_untracked()
                || scroller.get_untracked().is_some_and(|el| {
                    el.scroll_height() - el.scroll_top() - el.client_height() < 48
                }));
        request_animation_frame(move || {
            let Some(el) = scroller.get_untracked() else {
                return;
            };
            if let Some(from_bottom) = keep {
                el.set_scroll_top(el.scroll_height() - from_bottom);
            } else if stick {
                to_bottom(&el);
            }
            if rows.with_untracked(|r| !r.is_empty()) {
                positioned.set_value(true);
            }
        });
    });
    // A newly opened chat starts at its end.
    Effect::new(move |_| {
        store.current_chat.track();
        first_key.set_value(None);
        anchor.set_value(None);
        positioned.set_value(false);
    });
    super::position::track_divider(store);
    // A message asked for (search, quote, pin, first unread): scroll to it once shown.
    Effect::new(move |_| {
        if let Some((chat, id)) = store.focus.get() {
            if chat == store.current_chat.get_untracked() {
                super::reveal::reveal(list, id, move || store.focus.set(None));
            }
        }
    });
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 48;
        if at_bottom != store.at_bottom.get_untracked() {
            store.at_bottom.set(at_bottom);
        }
        if at_bottom {
            store.maybe_read();
        }
        // Not before the first page is in place: a chat just opened clamps the scroll
        // to the top before its first page arrives and is scrolled to its end.
        if el.scroll_top() < 120
            && positioned.get_value()
            && has_older.get_untracked()
            && !store.loading_older.get_untracked()
            && !rows.with_untracked(Vec::is_empty)
        {
            anchor.set_value(Some(el.scroll_height() - el.scroll_top()));
            store.load_older();
        }
    };

    view! {
        <div class="scroller" node_ref=scroller on:scroll=on_scroll tabindex="-1">
            <Show when=move || has_older.get()>
                <p class="older">
                    <button
                        type="button"
                        class="quiet small"
                        disabled=move || store.loading_older.get()
                        on:click=move |_| {
                            if let Some(el) = scroller.get_untracked() {
                                anchor.set_value(Some(el.scroll_height() - el.scroll_top()));
                            }
                            store.load_older();
                        }
                    >
                        {move || if store.loading_older.get() { "Loading…" } else { "Load older messages" }}
                    </button>
                </p>
            </Show>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty">"No messages yet. Say hello!"</p>
            </Show>
            <ul class="messages" aria-label="Messages" node_ref=list>
                <For
                    each=move || rows.get()
                    key=|row| {
                        (
                            row.line.key.clone(),
                            row.line.state,
                            row.line.updated_at,
                            row.line.deleted,
                            row.line.edited,
                            row.layout.starts_group,
                            row.layout.new_day,
                        )
                    }
                    children=move |row| {
                        let own = row.line.sender.eq_ignore_ascii_case(&me);
                        view! { <MessageRow row own last_own /> }
                    }
                />
            </ul>
        </div>
    }
}

#[component]
fn MessageRow(row: Row, own: bool, last_own: Memo<Option<MessageId>>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let line = row.line;
    let (time, full) = format_time(line.created_at);
    let chat = store.current_chat.get_untracked();
    let day = row.layout.new_day.then(|| day_label(line.created_at));
    let message_id = line.message_id;
    let sent = line.state == LineState::Sent;
    let failed = line.state == LineState::Failed;
    let deleted = line.deleted;
    let sender = line.sender.clone();
    // A message naming me (`@me`, or `@room`: the server lets only a room's owner send it).
    let me = store.user().unwrap_or_default();
    let mentions_me = !own
        && !deleted
        && (crate::text::mentions(&line.text, &me)
            || is_room(&chat) && crate::mentions::mentions_name(&line.text, crate::mentions::ROOM));

    // Receipts: a mark per own message in a direct chat, "seen by" in a room.
    let receipt =
        (own && !deleted).then(|| {
            let chat = chat.clone();
            let sender = sender.clone();
            move || {
                if failed {
                    return None;
                }
                if is_room(&chat) {
                    let id = message_id?;
                    if last_own.get() != Some(id) {
                        return None;
                    }
                    let names = store.marks.with(|m| {
                        m.get(&chat)
                            .map(|m| seen_by(id, &sender, m))
                            .unwrap_or_default()
                    });
                    let (short, long) = seen_by_text(&names)?;
                    Some(view! {
                    <span class="seen" tabindex="0" title=long.clone() aria-label=long.clone()>
                        {short}
                        <span class="seen-names" aria-hidden="true">{long.clone()}</span>
                    </span>
                }.into_any())
                } else if chat.eq_ignore_ascii_case(&sender) {
                    None
                } else {
                    let other = store.marks.with(|m| {
                        m.get(&chat)
                            .and_then(|m| m.get(&chat))
                            .copied()
                            .unwrap_or_default()
                    });
                    let mark = dm_mark(message_id, other);
                    let glyph = match mark {
                        crate::receipts::Mark::Pending => "◷",
                        crate::receipts::Mark::Sent => "✓",
                        _ => "✓✓",
                    };
                    Some(
                        view! {
                            <span class=format!("mark {}", mark.label().to_ascii_lowercase())>
                                <span aria-hidden="true">{glyph}" "</span>{mark.label()}
                            </span>
                        }
                        .into_any(),
                    )
                }
            }
        });
    let pending_label = move || match (line.state, store.link.get()) {
        (LineState::Sending, super::store::Link::Online) => Some("Sending…"),
        (LineState::Sending, _) => Some("Pending: waiting for the connection"),
        (LineState::Failed, _) => Some("Not sent"),
        _ => None,
    };
    let cid = line.client_message_id.clone();
    let edit_text = line.text.clone();
    // Someone this user blocked: folded away until asked for.
    let folded = RwSignal::new(!own && store.is_blocked(&sender));
    // A room's managers remove anyone's message.
    let moderates = !own
        && sent
        && !deleted
        && is_room(&chat)
        && store.room_info(&chat).is_some_and(|r| r.manage);
    let (shown_name, avatar) =
        store
            .profile_of(&sender)
            .map_or((sender.clone(), String::new()), |p| {
                let name = if p.display_name.is_empty() {
                    sender.clone()
                } else {
                    p.display_name
                };
                (name, p.avatar)
            });

    view! {
        {day.map(|label| {
            let aria = label.clone();
            // A list item holding the separator: a list holds list items only.
            view! { <li class="day"><div role="separator" aria-label=aria><span aria-hidden="true">{label}</span></div></li> }
        })}
        <li
            class="message"
            class:own=own
            class:grouped=!row.layout.starts_group
            class:sending=line.state == LineState::Sending
            class:failed=failed
            class:deleted=deleted
            class:mention=mentions_me
            tabindex="-1"
            data-message-id=message_id.map(|m| m.to_string())
        >
            <super::position::UnreadDivider message_id />
            <div class="meta" class:visually-hidden=!row.layout.starts_group>
                {(!avatar.is_empty()).then(|| view! { <img class="avatar" alt="" src=avatar.clone() /> })}
                <span class="author" title=sender.clone()>{shown_name}</span>
                <time title=full.clone()>{time.clone()}</time>
            </div>
            <div class="bubble" title=full>
                {if deleted {
                    view! { <p class="text tombstone">"This message was deleted."</p> }.into_any()
                } else if folded.get_untracked() {
                    let (quote, text, files, chat) = (line.reply_to.clone(), line.text.clone(), line.attachments.clone(), chat.clone());
                    (move || if folded.get() {
                        view! {
                            <p class="text tombstone">
                                "A message from someone you blocked. "
                                <button type="button" class="quiet small" on:click=move |_| folded.set(false)>"Show"</button>
                            </p>
                        }.into_any()
                    } else {
                        view! {
                            {quote.clone().map(|q| super::replies::quote_view(q, chat.clone()))}
                            {(!text.is_empty()).then(|| super::rich::message_text(&text))}
                            {super::attachments::render(&files)}
                        }.into_any()
                    }).into_any()
                } else {
                    view! {
                        {line.reply_to.clone().map(|q| super::replies::quote_view(q, chat.clone()))}
                        {(!line.text.is_empty()).then(|| super::rich::message_text(&line.text))}
                        {super::attachments::render(&line.attachments)}
                    }.into_any()
                }}
            </div>
            <div class="foot">
                {(line.edited && !deleted).then(|| view! { <span class="edited">"edited"</span> })}
                {(sent && !deleted).then(|| message_id.map(|id| super::replies::reply_button(id, sender.clone(), edit_text.clone())))}
                {move || pending_label().map(|s| view! { <span class="state">{s}</span> })}
                {receipt}
                {(own && sent && !deleted && message_id.is_some()).then(|| {
                    let id = message_id.unwrap_or_default();
                    let text = edit_text.clone();
                    view! {
                        <span class="actions">
                            <button type="button" class="quiet small" on:click=move |_| store.editing.set(Some((id, text.clone())))>"Edit"</button>
                            <button type="button" class="quiet small" on:click=move |_| store.delete(id)>"Delete"</button>
                        </span>
                    }
                })}
                {moderates.then(|| message_id.map(|id| view! {
                    <span class="actions">
                        <button type="button" class="quiet small" on:click=move |_| store.delete(id)>"Remove"</button>
                    </span>
                }))}
                {(failed).then(|| {
                    let cid = cid.clone().unwrap_or_default();
                    view! {
                        <span class="actions">
                            <button type="button" class="quiet small" on:click=move |_| store.discard(&cid)>"Discard"</button>
                        </span>
                    }
                })}
            </div>
            {message_id.filter(|_| sent && !deleted).map(|id| view! { <ReactionBar chat=chat.clone() id /> })}
        </li>
    }
}
