//! A room's topic under its title, and, for its managers (its creator, admins, the
//! owner), the room settings panel: the topic, private, announcements only, how long
//! messages are kept, and a person to add, remove, mute or let speak again. The muted
//! are listed. Every change is the server's to accept; its refusal is shown.

use super::store::{ChatStore, MemberAction};
use crate::protocol::SetRoomRequest;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// The open room's topic (nothing for a direct chat or a room without one).
#[component]
pub fn RoomTopic() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let topic = move || {
        store
            .room_info(&store.current_chat.get())
            .map(|r| r.topic)
            .unwrap_or_default()
    };
    view! { <p class="room-topic" hidden=move || topic().is_empty()>{topic}</p> }
}

/// "Room settings", for the room's managers, and its panel.
#[component]
pub fn RoomSettings() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let chat = store.current_chat;
    let info = Memo::new(move |_| store.room_info(&chat.get()));
    let open = RwSignal::new(false);
    let topic = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let announce = RwSignal::new(false);
    let days = RwSignal::new(String::new());
    let person = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    // Opening (or another room) fills the form from the room as it is.
    Effect::new(move |_| {
        chat.track();
        if !open.get() {
            return;
        }
        if let Some(r) = info.get_untracked() {
            topic.set(r.topic);
            private.set(r.private);
            announce.set(r.announce);
            days.set(r.retention_days.map(|d| d.to_string()).unwrap_or_default());
        }
        error.set(None);
        status.set(None);
    });
    Effect::new(move |_| {
        chat.track();
        open.set(false);
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let retention_days = match days.get_untracked().trim() {
            "" => 0,
            d => match d.parse::<u32>() {
                Ok(d) => d,
                Err(_) => {
                    error.set(Some("Keep messages: a number of days, or empty.".into()));
                    return;
                }
            },
        };
        let request = SetRoomRequest {
            chat_id: chat.get_untracked(),
            topic: Some(topic.get_untracked()),
            private: Some(private.get_untracked()),
            announce: Some(announce.get_untracked()),
            retention_days: Some(retention_days),
        };
        error.set(None);
        store.set_room(request, move |answer| match answer {
            Ok(()) => status.set(Some("Saved.".into())),
            Err(e) => error.set(Some(e)),
        });
    };
    let act = move |action: MemberAction| {
        let name = person.get_untracked().trim().to_owned();
        if name.is_empty() {
            error.set(Some("Type the person's name first.".into()));
            return;
        }
        error.set(None);
        let done = match action {
            MemberAction::Add => format!("{name} was added."),
            MemberAction::Kick => format!("{name} was removed."),
            MemberAction::Mute => format!("{name} is muted here."),
            MemberAction::Unmute => format!("{name} may post again."),
        };
        store.member_action(
            action,
            chat.get_untracked(),
            name,
            move |answer| match answer {
                Ok(()) => {
                    person.set(String::new());
                    status.set(Some(done));
                }
                Err(e) => error.set(Some(e)),
            },
        );
    };
    let muted = move || info.with(|r| r.as_ref().map(|r| r.muted.join(", ")).unwrap_or_default());
    view! {
        <button
            type="button"
            class="quiet"
            hidden=move || !info.with(|r| r.as_ref().is_some_and(|r| r.manage))
            aria-expanded=move || open.get().to_string()
            aria-controls="room-settings"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "Room settings"
        </button>
        <section class="popover room-settings" id="room-settings" aria-label="Room settings" hidden=move || !open.get()>
            <form aria-label="Settings" on:submit=save>
                <label for="room-topic">"Topic"</label>
                <input
                    id="room-topic"
                    maxlength="250"
                    prop:value=topic
                    on:input=move |ev| topic.set(event_target_value(&ev))
                />
                <label class="check">
                    <input type="checkbox" prop:checked=private on:change=move |ev| private.set(event_target_checked(&ev)) />
                    "Private: only people added see it"
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=announce on:change=move |ev| announce.set(event_target_checked(&ev)) />
                    "Announcements: only managers post"
                </label>
                <label for="room-days">"Keep messages (days, empty: for ever)"</label>
                <input
                    id="room-days"
                    inputmode="numeric"
                    prop:value=days
                    on:input=move |ev| days.set(event_target_value(&ev))
                />
                <button type="submit" class="primary small">"Save"</button>
            </form>
            <form aria-label="People in this room" on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                act(MemberAction::Add);
            }>
                <label for="room-person">"Person"</label>
                <input
                    id="room-person"
                    maxlength="32"
                    autocomplete="off"
                    prop:value=person
                    on:input=move |ev| person.set(event_target_value(&ev))
                />
                <div class="row">
                    <button type="submit" class="small">"Add"</button>
                    <button type="button" class="small" on:click=move |_| act(MemberAction::Kick)>"Remove"</button>
                    <button type="button" class="small" on:click=move |_| act(MemberAction::Mute)>"Mute"</button>
                    <button type="button" class="small" on:click=move |_| act(MemberAction::Unmute)>"Let speak"</button>
                </div>
            </form>
            <p class="hint" hidden=move || muted().is_empty()>"Muted: "{muted}</p>
            <p class="error" role="alert">{move || error.get()}</p>
            <p class="hint" role="status">{move || status.get()}</p>
        </section>
    }
}
