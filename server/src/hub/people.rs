//! People (issue 13): profiles and blocks, and the two rules that fence direct
//! messages. A profile (display name, about, avatar) is its person's to set and
//! everyone's to read; a change reaches every connected session (`profile`), so names
//! and pictures update everywhere at once. A block stops direct messages both ways
//! (the blocker's app also folds the blocked person's room messages away); a limited
//! account talks directly only with people it shares a room with.

use super::{Hub, Live, LiveShared, Outbound, Session, State};
use crate::domain::{now_ms, ChatRef, Refusal, UserKey};
use crate::store::{ProfileChange, StoredProfile};
use app::protocol::{
    is_hidden_char, Profile, Role, SetProfileRequest, MAX_ABOUT_CHARS, MAX_AVATAR_BYTES,
    MAX_DISPLAY_NAME_CHARS,
};

impl Hub {
    /// `setProfile`: an account changes its own profile; everyone connected is told.
    pub async fn set_profile(
        &self,
        session: &Session,
        set: SetProfileRequest,
    ) -> Result<Profile, Refusal> {
        if session.guest {
            return Err(Refusal::Forbidden("guests have no profile".into()));
        }
        let change = ProfileChange {
            display_name: set
                .display_name
                .map(|n| check_display_name(&n).map(|()| n.trim().to_owned()))
                .transpose()?,
            about: set
                .about
                .map(|a| check_about(&a).map(|()| a.trim().to_owned()))
                .transpose()?,
            avatar: set.avatar.map(|a| {
                let name = a.rsplit('/').next().unwrap_or_default().to_owned();
                (!name.is_empty()).then_some(name)
            }),
        };
        if let Some(Some(name)) = &change.avatar {
            if !crate::domain::is_upload_name(name) || !is_picture(name) {
                return Err(Refusal::BadRequest(
                    "an avatar is a PNG, JPEG, GIF or WebP picture you uploaded".into(),
                ));
            }
        }
        self.take_budget(&session.user, super::budgets::Spend::Status)?;
        let stored = self
            .store
            .set_profile(session.user.clone(), change, MAX_AVATAR_BYTES)
            .await
            .map_err(|e| e.into_refusal())?;
        let mut state = self.lock();
        let role = state
            .users
            .get(&session.user)
            .map_or(Role::Member, |u| u.role);
        if let Some(user) = state.users.get_mut(&session.user) {
            user.profile = stored.clone();
        }
        self.store.tell_nodes(crate::store::Notice::Profile {
            name: session.name.clone(),
            profile: stored.clone(),
        });
        let profile = profile_of(&session.name, role, &stored);
        let item = Outbound::Live(LiveShared::new(Live::Profile(profile.clone())));
        for (id, s) in state.sessions.iter_mut() {
            if *id != session.id {
                Hub::push(s, item.clone());
            }
        }
        Ok(profile)
    }

    /// `getProfile`: anyone's profile (a guest's: its name only).
    pub fn profile(&self, name: &str) -> Result<Profile, Refusal> {
        let state = self.lock();
        let user = state
            .users
            .get(&UserKey::of(name))
            .ok_or_else(|| Refusal::NotFound(format!("no user named {name:?}")))?;
        let role = if user.guest { Role::Member } else { user.role };
        Ok(profile_of(&user.name, role, &user.profile))
    }

    /// Every account's profile, for the people list.
    pub fn profiles(&self) -> Vec<Profile> {
        let state = self.lock();
        let mut out: Vec<Profile> = state
            .users
            .values()
            .filter(|u| !u.guest)
            .map(|u| profile_of(&u.name, u.role, &u.profile))
            .collect();
        out.sort_by_key(|p| p.user_id.to_lowercase());
        out
    }

    /// `block`: stops (or allows again) direct messages between the session's user and
    /// `name`.
    pub async fn block(&self, session: &Session, name: &str, blocked: bool) -> Result<(), Refusal> {
        let other = UserKey::of(name);
        if session.guest {
            return Err(Refusal::Forbidden("guests cannot block".into()));
        }
        if other == session.user {
            return Err(Refusal::BadRequest("you cannot block yourself".into()));
        }
        if self.lock().users.get(&other).is_none_or(|u| u.guest) {
            return Err(Refusal::NotFound(format!("no account named {name:?}")));
        }
        self.take_budget(&session.user, super::budgets::Spend::Status)?;
        self.store
            .set_blocked(session.user.clone(), other.clone(), blocked, now_ms())
            .await
            .map_err(|e| e.into_refusal())?;
        if let Some(user) = self.lock().users.get_mut(&session.user) {
            if blocked {
                user.blocked.insert(other.clone());
            } else {
                user.blocked.remove(&other);
            }
        }
        self.store.tell_nodes(crate::store::Notice::Blocked {
            user: session.user.as_str().to_owned(),
            other: other.as_str().to_owned(),
            blocked,
        });
        Ok(())
    }

    /// `getBlocks`: whom the session's user blocked, by name.
    pub fn blocks(&self, session: &Session) -> Vec<String> {
        let state = self.lock();
        let mut out: Vec<String> = state
            .users
            .get(&session.user)
            .map(|u| {
                u.blocked
                    .iter()
                    .filter_map(|k| state.users.get(k).map(|b| b.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by_key(|n| n.to_lowercase());
        out
    }
}

/// A direct chat between `user` and `other` (named `name`) is allowed by the limited
/// role: a limited account talks only with people it shares a room with.
pub(super) fn fenced(
    state: &State,
    user: &UserKey,
    other: &UserKey,
    name: &str,
) -> Result<(), Refusal> {
    let limited = |k: &UserKey| state.users.get(k).is_some_and(|u| u.role == Role::Limited);
    if (limited(user) || limited(other))
        && user != other
        && !state
            .rooms
            .values()
            .any(|r| r.members.contains(user) && r.members.contains(other))
    {
        return Err(Refusal::Forbidden(format!(
            "you and {name} share no room: a limited account talks only with people in its rooms"
        )));
    }
    Ok(())
}

/// Writing to the direct chat `chat` is not stopped by a block, either way.
pub(super) fn unblocked(state: &State, user: &UserKey, chat: &ChatRef) -> Result<(), Refusal> {
    let ChatRef::Direct(name) = chat else {
        return Ok(());
    };
    let other = UserKey::of(name);
    let blocks =
        |a: &UserKey, b: &UserKey| state.users.get(a).is_some_and(|u| u.blocked.contains(b));
    if blocks(user, &other) {
        return Err(Refusal::Forbidden(format!(
            "you blocked {name}: unblock them to write"
        )));
    }
    if blocks(&other, user) {
        return Err(Refusal::Forbidden(format!(
            "{name} does not take direct messages from you"
        )));
    }
    Ok(())
}

pub(super) fn profile_of(name: &str, role: Role, stored: &StoredProfile) -> Profile {
    Profile {
        user_id: name.to_owned(),
        display_name: stored.display_name.clone(),
        about: stored.about.clone(),
        avatar: stored
            .avatar
            .as_ref()
            .map(|a| format!("/uploads/{a}"))
            .unwrap_or_default(),
        role,
    }
}

fn is_picture(name: &str) -> bool {
    let ext = name.rsplit('.').next().unwrap_or_default();
    matches!(ext, "png" | "jpg" | "gif" | "webp")
}

/// A display name: at most 64 characters of one line, nothing invisible (empty: the
/// username is shown).
fn check_display_name(name: &str) -> Result<(), Refusal> {
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(Refusal::BadRequest(format!(
            "a display name has at most {MAX_DISPLAY_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(|c| c.is_control() || is_hidden_char(c)) {
        return Err(Refusal::BadRequest(
            "a display name is one line of printable characters".into(),
        ));
    }
    Ok(())
}

/// An "about": at most 300 characters; line breaks allowed, nothing else invisible.
fn check_about(about: &str) -> Result<(), Refusal> {
    if about.chars().count() > MAX_ABOUT_CHARS {
        return Err(Refusal::BadRequest(format!(
            "an about has at most {MAX_ABOUT_CHARS} characters"
        )));
    }
    if about
        .chars()
        .any(|c| (c.is_control() && c != '\n') || is_hidden_char(c))
    {
        return Err(Refusal::BadRequest(
            "an about has only printable characters and line breaks".into(),
        ));
    }
    Ok(())
}
