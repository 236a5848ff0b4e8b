//! Room moderation and roles (issue 13). A room is managed by its creator (as the same
//! kind of user: a guest's room is not managed by an account that takes the name
//! later), by admins and by the owner. Managers set the room's topic, make it private
//! (listed to its members only, joined by being added) or announcement-only (only
//! managers post), add people, remove them (`kick`), mute them, and remove anyone's
//! message. Ranks protect the people above: nobody acts on the owner, only the owner
//! acts on an admin. The owner sets roles; admins move people between member and
//! limited. A limited account is in the rooms it was added to only: it cannot create
//! or join rooms, sees only its rooms, and talks directly only with people it shares a
//! room with (checked in [`Hub::resolve`]).

use super::budgets::Spend;
use super::{Hub, Live, LiveShared, Outbound, Session, State};
use crate::domain::{now_ms, Chat, ChatRef, Refusal, RoomId, UserKey, GENERAL};
use crate::store::{Member, RoomChange};
use app::protocol::{is_hidden_char, Millis, Role, MAX_RETENTION_DAYS, MAX_TOPIC_CHARS};

/// One day, in milliseconds.
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Messages erased in one store write by the retention sweep.
const EXPIRE_BATCH: u32 = 200;

/// What a manager changes in a room's settings (`None` keeps a field).
#[derive(Debug, Clone, Default)]
pub struct RoomEdit {
    pub topic: Option<String>,
    pub private: Option<bool>,
    pub announce: Option<bool>,
    pub retention_days: Option<u32>,
}

impl Hub {
    /// Whether the session manages room `id`: its creator, an admin or the owner.
    pub(super) fn manages_room(&self, state: &State, session: &Session, id: RoomId) -> bool {
        let creator = state.rooms.get(&id).and_then(|r| {
            r.creator
                .as_ref()
                .map(|c| (UserKey::of(c), r.creator_guest))
        });
        creator.is_some_and(|(c, guest)| c == session.user && guest == session.guest)
            || self.manages_in(state, session)
    }

    /// The room `chat` names, if the session may see it and manages it.
    fn managed_room(
        &self,
        session: &Session,
        chat: &ChatRef,
        what: &str,
    ) -> Result<RoomId, Refusal> {
        let state = self.lock();
        let Chat::Room(id) = Self::resolve(&state, &session.user, chat, false)? else {
            return Err(Refusal::BadRequest(format!(
                "only rooms have people to {what}"
            )));
        };
        if !self.manages_room(&state, session, id) {
            return Err(Refusal::Forbidden(format!(
                "only the room's creator or an admin can {what}"
            )));
        }
        Ok(id)
    }

    /// Whether the session may post or edit (`message`), or react, in `chat`: not
    /// muted there, and for a message in an announcement room, one of its managers.
    /// Answers the chat.
    pub(super) fn chat_to_post(
        &self,
        session: &Session,
        chat: &ChatRef,
        message: bool,
    ) -> Result<Chat, Refusal> {
        let state = self.lock();
        let resolved = Self::resolve(&state, &session.user, chat, true)?;
        if let Chat::Direct(..) = &resolved {
            super::people::unblocked(&state, &session.user, chat)?;
        }
        if let Chat::Room(id) = resolved {
            if let Some(room) = state.rooms.get(&id) {
                if !session.guest && room.settings.muted.contains(&session.user) {
                    return Err(Refusal::Forbidden(format!(
                        "you are muted in #{}",
                        room.name
                    )));
                }
                if message && room.settings.announce && !self.manages_room(&state, session, id) {
                    return Err(Refusal::Forbidden(format!(
                        "only the managers of #{} post in it",
                        room.name
                    )));
                }
            }
        }
        Ok(resolved)
    }

    /// The name (display form) to log as a message's remover when the session
    /// moderates `chat`: a room it manages.
    pub(super) fn moderator_in(&self, session: &Session, chat: &Chat) -> Option<String> {
        let Chat::Room(id) = chat else {
            return None;
        };
        self.manages_room(&self.lock(), session, *id)
            .then(|| session.name.clone())
    }

    /// `setRoom`: a manager changes the topic, privacy or announcement setting.
    pub async fn set_room(
        &self,
        session: &Session,
        chat: &ChatRef,
        edit: RoomEdit,
    ) -> Result<RoomId, Refusal> {
        if let Some(topic) = &edit.topic {
            check_topic(topic)?;
        }
        if edit.retention_days.is_some_and(|d| d > MAX_RETENTION_DAYS) {
            return Err(Refusal::BadRequest(format!(
                "messages are kept at most {MAX_RETENTION_DAYS} days (0: for ever)"
            )));
        }
        let id = self.managed_room(session, chat, "change its settings")?;
        if edit.private == Some(true) && self.is_general(id) {
            return Err(Refusal::Forbidden(
                "General is everyone's room: it cannot be private".into(),
            ));
        }
        self.take_budget(&session.user, Spend::Membership)?;
        let change = RoomChange {
            room: id,
            by: session.name.clone(),
            topic: edit.topic.map(|t| t.trim().to_owned()),
            private: edit.private,
            announce: edit.announce,
            retention_days: edit.retention_days,
            mute: None,
            at: now_ms(),
        };
        self.store
            .set_room(change, session.origin())
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(id)
    }

    /// `addMember`: a manager puts an account into the room (the way into a private
    /// room, and a limited account's only way into any room).
    pub async fn add_member(
        &self,
        session: &Session,
        chat: &ChatRef,
        name: &str,
    ) -> Result<(), Refusal> {
        let id = self.managed_room(session, chat, "add people")?;
        let target = self.account_named(name)?;
        self.take_budget(&session.user, Spend::Membership)?;
        self.store
            .join_room(
                id,
                target,
                Some(session.name.clone()),
                now_ms(),
                session.origin(),
            )
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(())
    }

    /// `kick`: a manager takes a person out of the room. Nobody is taken out of
    /// General but a limited account (whose rooms are chosen for it).
    pub async fn kick(&self, session: &Session, chat: &ChatRef, name: &str) -> Result<(), Refusal> {
        let id = self.managed_room(session, chat, "remove people")?;
        let target = self.account_named(name)?;
        self.outranks(session, &target.key, "remove")?;
        if self.is_general(id) && self.role_of(&target.key) != Role::Limited {
            return Err(Refusal::Forbidden(
                "everyone stays in General (only a limited account can be taken out)".into(),
            ));
        }
        self.take_budget(&session.user, Spend::Membership)?;
        self.store
            .leave_room(
                id,
                target,
                Some(session.name.clone()),
                now_ms(),
                session.origin(),
            )
            .await
            .map_err(|e| e.into_refusal())
    }

    /// `mute`: a manager stops a member posting in the room, or lets them again.
    pub async fn mute(
        &self,
        session: &Session,
        chat: &ChatRef,
        name: &str,
        muted: bool,
    ) -> Result<(), Refusal> {
        let id = self.managed_room(session, chat, "mute people")?;
        let target = self.account_named(name)?;
        self.outranks(session, &target.key, "mute")?;
        self.take_budget(&session.user, Spend::Membership)?;
        let change = RoomChange {
            room: id,
            by: session.name.clone(),
            topic: None,
            private: None,
            announce: None,
            retention_days: None,
            mute: Some((target.key, muted)),
            at: now_ms(),
        };
        self.store
            .set_room(change, session.origin())
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(())
    }

    /// `setRole`: the owner makes an account an admin, a member or limited; an admin
    /// moves accounts between member and limited. The owner stays the owner.
    pub async fn set_role(
        &self,
        session: &Session,
        name: &str,
        role: Role,
    ) -> Result<Role, Refusal> {
        let target = self.account_named(name)?;
        if target.key == session.user {
            return Err(Refusal::BadRequest(
                "you cannot change your own role".into(),
            ));
        }
        let (mine, theirs) = (self.role_of(&session.user), self.role_of(&target.key));
        let allowed = match mine {
            _ if session.guest => false,
            Role::Owner => theirs != Role::Owner && role != Role::Owner,
            _ if self.manages(session) => {
                matches!(theirs, Role::Member | Role::Limited)
                    && matches!(role, Role::Member | Role::Limited)
            }
            _ => false,
        };
        if !allowed {
            return Err(Refusal::Forbidden(match mine {
                Role::Owner => "there is one owner: that role is not given or taken".into(),
                Role::Admin => "admins move people between member and limited only".into(),
                _ => "only the owner and admins change roles".into(),
            }));
        }
        let found = self
            .store
            .set_role(target.key.clone(), role)
            .await
            .map_err(|e| e.into_refusal())?;
        if !found {
            return Err(Refusal::NotFound(format!("no account named {name:?}")));
        }
        let mut state = self.lock();
        if let Some(user) = state.users.get_mut(&target.key) {
            user.role = role;
        }
        tell_role(&mut state, &target, role);
        self.store.tell_nodes(crate::store::Notice::Role {
            name: target.name.clone(),
            role,
        });
        tracing::info!(user = %target.name, by = %session.name, role = role.as_str(), "role changed");
        Ok(role)
    }

    /// Removes the messages that rooms with a retention setting no longer keep (as a
    /// deletion does); answers how many.
    pub async fn expire_old(&self, now: Millis) -> Result<u64, Refusal> {
        let rooms: Vec<(RoomId, u32)> = self
            .lock()
            .rooms
            .iter()
            .filter(|(_, r)| r.settings.retention_days > 0)
            .map(|(id, r)| (*id, r.settings.retention_days))
            .collect();
        let mut removed = 0u64;
        for (room, days) in rooms {
            let before = now.saturating_sub(i64::from(days) * DAY_MS);
            loop {
                let n = self
                    .store
                    .expire(room, before, EXPIRE_BATCH)
                    .await
                    .map_err(|e| e.into_refusal())?;
                removed += u64::from(n);
                if n < EXPIRE_BATCH {
                    break;
                }
            }
        }
        Ok(removed)
    }

    /// The account of `name` (not a guest) as a room member.
    fn account_named(&self, name: &str) -> Result<Member, Refusal> {
        let key = UserKey::of(name);
        let state = self.lock();
        match state.users.get(&key) {
            Some(user) if !user.guest => Ok(Member {
                name: user.name.clone(),
                key,
            }),
            _ => Err(Refusal::NotFound(format!("no account named {name:?}"))),
        }
    }

    /// The session may act on `target`: not themself, never the owner, an admin only
    /// as the owner.
    fn outranks(&self, session: &Session, target: &UserKey, what: &str) -> Result<(), Refusal> {
        if *target == session.user {
            return Err(Refusal::BadRequest(format!("you cannot {what} yourself")));
        }
        match self.role_of(target) {
            Role::Owner => Err(Refusal::Forbidden(format!("nobody can {what} the owner"))),
            Role::Admin if self.role_of(&session.user) != Role::Owner => Err(Refusal::Forbidden(
                format!("only the owner can {what} an admin"),
            )),
            _ => Ok(()),
        }
    }

    fn is_general(&self, id: RoomId) -> bool {
        self.lock()
            .rooms
            .get(&id)
            .is_some_and(|r| r.name == GENERAL)
    }
}

/// Tells the person's own sessions their new role.
pub(super) fn tell_role(state: &mut State, target: &Member, role: Role) {
    let Some(sessions) = state.users.get(&target.key).map(|u| u.sessions.clone()) else {
        return;
    };
    let item = Outbound::Live(LiveShared::new(Live::Role {
        user: target.name.clone(),
        role,
    }));
    for id in sessions {
        if let Some(s) = state.sessions.get_mut(&id) {
            Hub::push(s, item.clone());
        }
    }
}

/// A topic: at most [`MAX_TOPIC_CHARS`] characters on one line, nothing invisible.
fn check_topic(topic: &str) -> Result<(), Refusal> {
    if topic.chars().count() > MAX_TOPIC_CHARS {
        return Err(Refusal::BadRequest(format!(
            "a topic has at most {MAX_TOPIC_CHARS} characters"
        )));
    }
    if topic.chars().any(|c| c.is_control() || is_hidden_char(c)) {
        return Err(Refusal::BadRequest(
            "a topic is one line of printable characters".into(),
        ));
    }
    Ok(())
}
