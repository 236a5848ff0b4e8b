//! The admin part of the account panel (the owner and admins): everyone with their
//! role, changed in place (`setRole`: the owner makes admins, members and limited
//! accounts; admins move people between member and limited), and the storage the data
//! takes (`getStorage`): the database, uploads, backups, the disk's free space, and the
//! rooms with the most messages.

use super::store::ChatStore;
use crate::protocol::{Role, StorageReport};
use leptos::prelude::*;

/// Bytes as people read them: "1.5 MB" (integer arithmetic: formatting a float would
/// bring its whole printing machinery into the bundle).
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let (mut value, mut unit) = (bytes, 0);
    let mut tenths = 0;
    while value >= 1000 && unit < UNITS.len() - 1 {
        tenths = (value % 1000) / 100;
        value /= 1000;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value}.{tenths} {}", UNITS[unit])
    }
}

/// The storage report as two texts: the totals, and the rooms with the most messages.
fn describe(r: &StorageReport) -> (String, String) {
    let mut text = format!(
        "Database {}, uploads {} ({} files), backups {}.",
        size(r.database),
        size(r.uploads),
        r.upload_files,
        size(r.backups)
    );
    if let (Some(free), Some(total)) = (r.free, r.total) {
        text.push_str(&format!(" Disk: {} free of {}.", size(free), size(total)));
    }
    text.push_str(&format!(
        " {} messages in rooms, {} in direct chats.",
        r.messages, r.direct_messages
    ));
    let rooms = r
        .rooms
        .iter()
        .take(5)
        .map(|room| format!("{} {}", room.chat_id, room.messages))
        .collect::<Vec<_>>()
        .join(", ");
    (text, format!("Messages by room: {rooms}."))
}

#[component]
pub fn AdminPanel() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let error = RwSignal::new(None::<String>);
    let totals = RwSignal::new(String::new());
    let by_room = RwSignal::new(String::new());
    store.refresh_people();
    store.load_storage(move |answer| match answer {
        Ok(r) => {
            let (t, rooms) = describe(&r);
            totals.set(t);
            by_room.set(rooms);
        }
        Err(e) => error.set(Some(e)),
    });
    let owner = move || store.my_role.get() == Role::Owner;
    let reset_name = RwSignal::new(String::new());
    let reset_link = RwSignal::new(String::new());
    let make_reset = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        store.create_reset(
            reset_name.get_untracked().trim().to_owned(),
            move |answer| match answer {
                Ok(path) => reset_link.set(format!("{origin}{path}")),
                Err(e) => error.set(Some(e)),
            },
        );
    };
    let deleted = RwSignal::new("keep".to_owned());
    if store.my_role.get_untracked() == Role::Owner {
        store.deleted_messages(None, move |answer| {
            if let Ok(mode) = answer {
                deleted.set(mode.as_str().to_owned());
            }
        });
    }
    let switch_deleted = move |ev: leptos::ev::Event| {
        let Some(mode) = crate::protocol::DeletedMessages::parse(&event_target_value(&ev)) else {
            return;
        };
        store.deleted_messages(Some(mode), move |answer| match answer {
            Ok(now) => deleted.set(now.as_str().to_owned()),
            Err(e) => error.set(Some(e)),
        });
    };
    let me = store.user().unwrap_or_default();
    let people = move || {
        let me = me.clone();
        store.users.with(|users| {
            users
                .keys()
                .filter(|n| !n.eq_ignore_ascii_case(&me))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let role_of = move |name: &str| {
        store.profiles.with(|all| {
            all.iter()
                .find(|p| p.user_id.eq_ignore_ascii_case(name))
                .map_or(Role::Member, |p| p.role)
        })
    };
    view! {
        <section class="admin" aria-labelledby="admin-people">
            <h3 id="admin-people" class="section-title">"People"</h3>
            <ul class="people-list" aria-label="Roles">
                {move || people().into_iter().map(|name| {
                    let current = role_of(&name);
                    let who = name.clone();
                    let change = move |ev: leptos::ev::Event| {
                        let Some(role) = Role::parse(&event_target_value(&ev)) else { return };
                        error.set(None);
                        store.set_role(who.clone(), role, move |answer| {
                            if let Err(e) = answer {
                                error.set(Some(e));
                            }
                        });
                    };
                    let fixed = current == Role::Owner || (current == Role::Admin && !owner());
                    let label = format!("Role of {name}");
                    view! {
                        <li class="person">
                            <span class="person-name">{name.clone()}</span>
                            <select aria-label=label disabled=fixed on:change=change>
                                <option value="owner" hidden=true selected=current == Role::Owner>"owner"</option>
                                <option value="admin" disabled=!owner() selected=current == Role::Admin>"admin"</option>
                                <option value="member" selected=current == Role::Member>"member"</option>
                                <option value="limited" selected=current == Role::Limited>"limited"</option>
                            </select>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form aria-label="Password reset" on:submit=make_reset>
                <label for="reset-name">"Password reset link for"</label>
                <input id="reset-name" maxlength="32" autocomplete="off" prop:value=reset_name on:input=move |ev| reset_name.set(event_target_value(&ev)) />
                <button type="submit" class="small">"Make link"</button>
                <input aria-label="Reset link" readonly prop:value=reset_link hidden=move || reset_link.with(String::is_empty) />
            </form>
            <label hidden=move || !owner()>
                "Messages of deleted accounts "
                <select on:change=switch_deleted prop:value=move || deleted.get()>
                    <option value="keep">"stay, as “deleted user”"</option>
                    <option value="erase">"are erased"</option>
                </select>
            </label>
            <h3 class="section-title">"Storage"</h3>
            <p class="hint">{totals}</p>
            <p class="hint">{by_room}</p>
            <p class="error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
        </section>
    }
}
