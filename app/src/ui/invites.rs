//! Who may join, in the account panel of the owner and the admins: the registration
//! mode (the owner's), a form that makes an invitation (role, sign-ups, lifetime) and
//! shows its link once, with a copy button and a QR code for a visitor's phone, the
//! open invitations, each revocable, and bans (a name to ban, the banned to let back
//! in). The QR code is drawn by the server
//! (`/api/invite-qr/CODE`), not in the bundle.

use super::platform;
use super::store::ChatStore;
use crate::protocol::{BanInfo, CreateInviteRequest, InviteInfo, Registration, Role};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[component]
pub fn InvitePanel() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let owner = move || store.my_role.get() == Role::Owner;
    let mode = RwSignal::new(None::<Registration>);
    let invites = RwSignal::new(Vec::<InviteInfo>::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    // The link just made, and its code: shown until the next one.
    let made = RwSignal::new(None::<(String, String)>);
    let role = RwSignal::new(Role::Member);
    let uses = RwSignal::new("1".to_owned());
    let days = RwSignal::new("7".to_owned());

    let banned = RwSignal::new(Vec::<BanInfo>::new());
    let to_ban = RwSignal::new(String::new());
    let reload = move || {
        store.load_invites(move |answer| match answer {
            Ok(list) => {
                mode.set(Some(list.registration));
                invites.set(list.invites);
            }
            Err(e) => error.set(Some(e)),
        });
        store.load_bans(move |answer| match answer {
            Ok(list) => banned.set(list.bans),
            Err(e) => error.set(Some(e)),
        });
    };
    reload();

    let switch = move |ev: leptos::ev::Event| {
        let Some(next) = Registration::parse(&event_target_value(&ev)) else {
            return;
        };
        error.set(None);
        store.set_registration(next, move |answer| match answer {
            Ok(now) => {
                mode.set(Some(now));
                status.set(Some(match now {
                    Registration::Open => "Anyone can sign up now.".to_owned(),
                    Registration::Invite => {
                        "Only people with an invitation can sign up now.".to_owned()
                    }
                    Registration::Closed => "Nobody new can sign up now.".to_owned(),
                }));
            }
            Err(e) => error.set(Some(e)),
        });
    };
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Ok(count) = uses.get_untracked().trim().parse::<u32>() else {
            error.set(Some("Sign-ups: a whole number, 1 or more.".to_owned()));
            return;
        };
        let request = CreateInviteRequest {
            role: role.get_untracked(),
            uses: Some(count),
            expires_in: days
                .get_untracked()
                .parse::<u64>()
                .ok()
                .map(|d| d * 24 * 3600),
        };
        store.create_invite(request, move |answer| match answer {
            Ok(new) => {
                let origin = web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .unwrap_or_default();
                made.set(Some((format!("{origin}{}", new.path), new.code)));
                status.set(Some("Invitation created.".to_owned()));
                reload();
            }
            Err(e) => error.set(Some(e)),
        });
    };
    // Bans and lets back in: the person's open pages end at once.
    let set_ban = move |name: String, ban: bool| {
        error.set(None);
        store.ban(name.clone(), ban, move |answer| match answer {
            Ok(()) => {
                status.set(Some(if ban {
                    format!("{name} is banned.")
                } else {
                    format!("{name} may log in again.")
                }));
                to_ban.set(String::new());
                reload();
            }
            Err(e) => error.set(Some(e)),
        });
    };
    let revoke = move |id: String| {
        error.set(None);
        store.revoke_invite(id, move |answer| match answer {
            Ok(()) => {
                status.set(Some("Invitation revoked.".to_owned()));
                reload();
            }
            Err(e) => error.set(Some(e)),
        });
    };

    // Static elements shown and hidden by attributes, and the list drawn whole: this
    // panel is for one or two people, and `Show`/`For` would cost the bundle more.
    let link = move || made.get().map(|(link, _)| link).unwrap_or_default();
    let qr = move || {
        made.get()
            .map(|(_, code)| format!("/api/invite-qr/{code}"))
            .unwrap_or_default()
    };
    let list = move || {
        invites
            .get()
            .into_iter()
            .map(|invite| {
                let label = format!("Revoke the invitation {}", invite.id);
                let until = platform::format_time(invite.expires_at).1;
                let text = format!("{} · {} left · until {until}", invite.role.as_str(), invite.uses_left);
                let id = invite.id;
                view! {
                    <li>
                        <span>{text}</span>
                        <button type="button" class="quiet small" aria-label=label on:click=move |_| revoke(id.clone())>
                            "Revoke"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };

    let ban_list = move || {
        banned
            .get()
            .into_iter()
            .map(|b| {
                // Named "Unban NAME": the name holds the visible text (WCAG 2.5.3).
                let hidden = format!(" {}", b.user_id);
                let text = format!("{} · by {}", b.user_id, b.banned_by);
                let name = b.user_id;
                view! {
                    <li>
                        <span>{text}</span>
                        <button type="button" class="quiet small" on:click=move |_| set_ban(name.clone(), false)>
                            "Unban"<span class="visually-hidden">{hidden}</span>
                        </button>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <section class="invite-panel" aria-labelledby="invite-title">
            <h3 id="invite-title" class="section-title">"Who may join"</h3>
            <div class="account-form" hidden=move || !owner()>
                <label for="registration-select">"Sign-up"</label>
                <select
                    id="registration-select"
                    prop:value=move || mode.get().map(Registration::as_str).unwrap_or("open")
                    on:change=switch
                >
                    <option value="open">"Open to anyone here"</option>
                    <option value="invite">"Invitation only"</option>
                    <option value="closed">"Closed"</option>
                </select>
            </div>
            <form class="account-form" on:submit=create aria-label="Invite someone">
                <label for="invite-role">"Role"</label>
                <select
                    id="invite-role"
                    on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)).unwrap_or_default())
                >
                    <option value="member">"Member"</option>
                    <option value="limited">"Limited (only rooms they are added to)"</option>
                    <option value="admin" hidden=move || !owner()>"Admin"</option>
                </select>
                <label for="invite-uses">"Sign-ups"</label>
                <input
                    id="invite-uses"
                    type="number"
                    min="1"
                    max="1000"
                    prop:value=uses
                    on:input=move |ev| uses.set(event_target_value(&ev))
                />
                <label for="invite-days">"Valid for"</label>
                <select id="invite-days" prop:value=days on:change=move |ev| days.set(event_target_value(&ev))>
                    <option value="1">"1 day"</option>
                    <option value="7">"7 days"</option>
                    <option value="30">"30 days"</option>
                </select>
                <button type="submit" class="primary small">"Create invitation"</button>
            </form>
            <p class="error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
            <p class="hint" role="status" hidden=move || status.with(Option::is_none)>{move || status.get()}</p>
            <div class="invite-made" hidden=move || made.get().is_none()>
                <label for="invite-link">"Invitation link"</label>
                <input id="invite-link" readonly prop:value=link />
                <button
                    type="button"
                    class="quiet small"
                    on:click=move |_| {
                        if platform::copy_text(&link()) {
                            status.set(Some("Link copied.".to_owned()));
                        }
                    }
                >
                    "Copy link"
                </button>
                <img class="invite-qr" src=qr alt="QR code of the invitation link" width="160" height="160" />
            </div>
            <ul class="invite-list" aria-label="Open invitations">{list}</ul>
            <form
                class="account-form"
                aria-label="Ban a person"
                on:submit=move |ev: SubmitEvent| {
                    ev.prevent_default();
                    let name = to_ban.get_untracked().trim().to_owned();
                    if !name.is_empty() {
                        set_ban(name, true);
                    }
                }
            >
                <label for="ban-name">"Name to ban"</label>
                <input id="ban-name" autocomplete="off" prop:value=to_ban on:input=move |ev| to_ban.set(event_target_value(&ev)) />
                <button type="submit" class="small">"Ban"</button>
            </form>
            <ul class="invite-list" aria-label="Banned">{ban_list}</ul>
        </section>
    }
}
