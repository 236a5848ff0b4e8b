//! Commands: what a user can do to the world besides writing messages (those, on the
//! path of every chat message, are in `messages`): log in and session tokens, rooms,
//! the acknowledged position, and the server's broadcasts. Each checks the rules
//! (names, membership), then either writes through the store (and the commit publishes
//! the event) or, for what is not kept, fans out at once.

use super::budgets::Spend;
use super::{Hub, Live, LiveShared, Outbound, Session};
use crate::domain::{now_ms, Chat, ChatRef, Refusal, RoomId, UserKey, GENERAL};
use crate::store::{Member, NewAccount, NewRoom};
use app::protocol::{validate_room_name, validate_username, EventId, Role, MAX_PASSWORD_BYTES};
use std::net::IpAddr;

impl Hub {
    /// Logs in with a password from a client at `from`; an unknown name registers it
    /// if registration allows (with `invite`, an invitation's code, when it is
    /// `invite`). Answers the account's display name and whether this login created
    /// it. Refused with `rate_limited`, before the password is looked at, while that
    /// client must wait after failed logins (`throttle`), or while the hashing line is
    /// full.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        invite: Option<&str>,
        from: IpAddr,
    ) -> Result<(String, bool), Refusal> {
        validate_username(username).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
            return Err(Refusal::BadRequest(format!(
                "a password has 1 to {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        let key = UserKey::of(username);
        self.may_try_password(&key, from)?;
        let existing = self
            .store
            .account(key.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        let account = match existing {
            Some(account) => account,
            None => {
                let invite_needed = self.may_register(invite)?;
                self.begin_registration(username)?;
                let registered = self
                    .register(username, password, invite, invite_needed)
                    .await;
                self.end_registration(
                    username,
                    registered.as_ref().ok().map(|(account, _)| account.role),
                );
                let (account, created) = registered?;
                if created {
                    return Ok((account.name, true));
                }
                account
            }
        };
        // Accounts always have a password; a row without one is from before guests
        // were visitors, and the store's migration removed those.
        let Some(hash) = account.password_hash else {
            return Err(Refusal::AuthFailed);
        };
        if !self.check_password(&key, from, password, hash).await? {
            return Err(Refusal::AuthFailed);
        }
        // Said only to whoever knows the password.
        if account.banned {
            return Err(Refusal::NotAllowed(
                "this account is banned from this server".into(),
            ));
        }
        Ok((account.name, false))
    }

    /// Hashes the password and stores the account (`false`: it existed already).
    async fn register(
        &self,
        username: &str,
        password: &str,
        invite: Option<&str>,
        invite_needed: bool,
    ) -> Result<(crate::store::Account, bool), Refusal> {
        self.check_new_password(password)?;
        let hash = self.hasher.hash(password.to_owned()).await?;
        let account = NewAccount {
            name: username.to_owned(),
            password_hash: Some(hash),
            at: now_ms(),
            invite: invite.map(token_hash),
            invite_needed,
        };
        let (account, created) = self
            .store
            .register(account)
            .await
            .map_err(|e| e.into_refusal())?;
        if created {
            tracing::info!(name = %account.name, role = account.role.as_str(), "account registered");
        }
        Ok((account, created))
    }

    /// Creates a room; its creator is its first member.
    /// A guest's membership is not stored (it lasts while the guest is connected).
    pub async fn create_room(
        &self,
        session: &Session,
        name: &str,
        private: bool,
    ) -> Result<RoomId, Refusal> {
        validate_room_name(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if self.role_of(&session.user) == Role::Limited {
            return Err(Refusal::Forbidden(
                "a limited account cannot create rooms".into(),
            ));
        }
        self.begin_room(name)?;
        if let Err(refusal) = self.take_budget(&session.user, Spend::Room) {
            self.end_room(name, None);
            return Err(refusal);
        }
        let room = NewRoom {
            name: name.to_owned(),
            creator: member(session),
            creator_guest: session.guest,
            private,
            at: now_ms(),
        };
        let created = self
            .store
            .create_room(room, session.origin())
            .await
            .map_err(|e| e.into_refusal());
        self.end_room(name, created.as_ref().ok().map(|id| (*id, session.guest)));
        created
    }

    /// Joins a room; answers whether the user was not in it already.
    pub async fn join_room(&self, session: &Session, chat: &ChatRef) -> Result<RoomId, Refusal> {
        let Chat::Room(room) = self.chat_for(&session.user, chat, false)? else {
            return Err(Refusal::BadRequest("only rooms can be joined".into()));
        };
        let in_room = self
            .lock()
            .rooms
            .get(&room)
            .is_some_and(|r| r.members.contains(&session.user));
        if !in_room && !session.guest && self.role_of(&session.user) == Role::Limited {
            return Err(Refusal::Forbidden(
                "a limited account is in the rooms it is added to: ask the room's creator or an admin"
                    .into(),
            ));
        }
        self.take_budget(&session.user, Spend::Membership)?;
        if session.guest {
            self.guest_join(&session.user, room);
            return Ok(room);
        }
        self.store
            .join_room(room, member(session), None, now_ms(), session.origin())
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(room)
    }

    pub async fn leave_room(&self, session: &Session, chat: &ChatRef) -> Result<(), Refusal> {
        let Chat::Room(room) = self.chat_for(&session.user, chat, true)? else {
            return Err(Refusal::BadRequest("only rooms can be left".into()));
        };
        if self
            .lock()
            .rooms
            .get(&room)
            .is_some_and(|r| r.name == GENERAL)
        {
            return Err(Refusal::Forbidden("everyone stays in General".into()));
        }
        self.take_budget(&session.user, Spend::Membership)?;
        if session.guest {
            self.guest_leave(&session.user, room);
            return Ok(());
        }
        self.store
            .leave_room(room, member(session), None, now_ms(), session.origin())
            .await
            .map_err(|e| e.into_refusal())
    }

    /// Clears a room's history; allowed to its creator and to admins.
    pub async fn clear_room(&self, session: &Session, chat: &ChatRef) -> Result<(), Refusal> {
        let room = {
            let state = self.lock();
            let Chat::Room(id) = Self::resolve(&state, &session.user, chat, false)? else {
                return Err(Refusal::BadRequest("only rooms can be cleared".into()));
            };
            if !self.manages_room(&state, session, id) {
                return Err(Refusal::Forbidden(
                    "only the room's creator or an admin can clear it".into(),
                ));
            }
            id
        };
        self.store
            .clear_room(room, session.name.clone(), now_ms(), session.origin())
            .await
            .map_err(|e| e.into_refusal())
    }

    /// A new session token for `name` (kept hashed).
    pub async fn issue_token(&self, name: &str) -> Result<String, Refusal> {
        let token = new_token();
        self.store
            .issue_token(UserKey::of(name), token_hash(&token), now_ms())
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(token)
    }

    /// The account a session token belongs to, if it is still valid (not revoked, and
    /// used to log in within the token lifetime). A store failure is an error, not "no
    /// such token".
    pub async fn token_owner(&self, token: &str) -> Result<Option<String>, Refusal> {
        let key = self
            .store
            .token_user(token_hash(token), self.token_cutoff())
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(key.and_then(|k| self.lock().users.get(&k).map(|u| u.name.clone())))
    }

    /// Logs in `username` with a session token; the login renews the token's lifetime.
    pub async fn authenticate_token(&self, username: &str, token: &str) -> Result<String, Refusal> {
        match self.token_owner(token).await? {
            Some(name) if UserKey::of(&name) == UserKey::of(username) => {
                self.store
                    .touch_token(token_hash(token), now_ms())
                    .await
                    .map_err(|e| e.into_refusal())?;
                Ok(name)
            }
            _ => Err(Refusal::AuthFailed),
        }
    }

    /// Forgets a session token (logout) and ends the other connections holding it.
    pub async fn revoke_token(&self, session: &Session, token: &str) -> Result<(), Refusal> {
        let hash = token_hash(token);
        self.store
            .revoke_token(hash.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        self.end_sessions(
            &session.user,
            Some(session.id),
            Some(&hash),
            super::Ended::LoggedOut,
        );
        Ok(())
    }

    /// Remembers the last event the user acknowledged (used when `subscribe` names
    /// none). Kept in memory and stored when the user's last connection closes: a
    /// client acks every event, and a write per ack would cost a row update per room
    /// member per message. After a crash the position is older, so a resume without
    /// `lastEventId` replays more, never less.
    pub fn ack(&self, session: &Session, event: EventId) {
        if let Some(user) = self.lock().users.get_mut(&session.user) {
            user.acked = user.acked.max(event);
        }
    }

    /// A message from the server to every connected client.
    pub fn broadcast(&self, text: &str) {
        let mut state = self.lock();
        let live = Live::Broadcast {
            text: text.to_owned(),
            to: None,
        };
        self.broadcast_live(&mut state, live, None);
    }

    /// A message from the server to one user's connections; `false` if they have none.
    pub fn notify(&self, user: &str, text: &str) -> bool {
        let mut state = self.lock();
        let key = UserKey::of(user);
        let Some(entry) = state.users.get(&key) else {
            return false;
        };
        let sessions = entry.sessions.clone();
        let item = Outbound::Live(LiveShared::new(Live::Broadcast {
            text: text.to_owned(),
            to: Some(entry.name.clone()),
        }));
        for id in &sessions {
            if let Some(s) = state.sessions.get_mut(id) {
                Self::push(s, item.clone());
            }
        }
        !sessions.is_empty()
    }
}

/// A new session token: 32 random bytes, in hex.
pub(super) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

/// What the store keeps of a session token.
pub(crate) fn token_hash(token: &str) -> String {
    use blake2::Digest;
    data_encoding::HEXLOWER.encode(&blake2::Blake2s256::digest(token.as_bytes()))
}

/// The session's user as a room member.
fn member(session: &Session) -> Member {
    Member {
        key: session.user.clone(),
        name: session.name.clone(),
    }
}
