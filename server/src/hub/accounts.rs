//! Password resets and deleted accounts (issue 13). An admin who is told "I forgot my
//! password" makes a one-time link (`createReset`): 128 random bits, shown once, kept
//! hashed, valid 24 hours, one per account. Its holder logs in with it and a new
//! password (`auth` with `reset`): the password changes, every session token of the
//! account goes and every open connection of it ends, as `changePassword` does.
//! Nobody resets the owner's password this way but the owner, at the server's machine
//! (`parlor reset-password`); only the owner resets an admin's.
//!
//! A person deletes their own account (`deleteAccount`, with their password; never the
//! owner). What happens to their messages is the owner's choice (`setDeletedMessages`):
//! kept under "deleted user", with a sender key no account can have, so a later
//! account of the same name can neither edit nor delete them; or erased as `delete`
//! erases them. Either way their direct chats are erased (a later account of the same
//! name must not read them), their reactions, pins, memberships and tokens go, every
//! connection of theirs ends, and their name is free again.

use super::access::{random_code, Maker};
use super::commands::{new_token, token_hash};
use super::{Ended, Hub, Session};
use crate::domain::{now_ms, Refusal, UserKey};
use crate::store::{AccountDeletion, NewReset, UsedReset};
use app::protocol::{
    name_folds, validate_username, DeletedMessages, Millis, Role, MAX_PASSWORD_BYTES, RESET_SECS,
};
use std::net::IpAddr;
use std::time::{Duration, Instant};

impl Hub {
    /// `createReset` (owner and admins) and `parlor reset-password` (the console):
    /// answers the account's display name, the code (shown once) and when it lapses.
    pub async fn create_reset(
        &self,
        maker: Maker<'_>,
        name: &str,
    ) -> Result<(String, String, Millis), Refusal> {
        if let Maker::Person(session) = &maker {
            if !self.manages(session) {
                return Err(Refusal::Forbidden(
                    "only the owner and admins can make password reset links".into(),
                ));
            }
        }
        validate_username(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let user = UserKey::of(name);
        let Some(account) = self
            .store
            .account(user.clone())
            .await
            .map_err(|e| e.into_refusal())?
        else {
            return Err(Refusal::NotFound("no account of that name".into()));
        };
        if account.banned {
            return Err(Refusal::Conflict(
                "this account is banned: let it back in first".into(),
            ));
        }
        let created_by = match maker {
            Maker::Console => "parlor reset-password".to_owned(),
            Maker::Person(session) => {
                let owner = self.role_of(&session.user) == Role::Owner;
                match account.role {
                    Role::Owner => {
                        return Err(Refusal::Forbidden(
                            "the owner resets their password with `parlor reset-password` on the server's machine"
                                .into(),
                        ))
                    }
                    Role::Admin if !owner => {
                        return Err(Refusal::Forbidden(
                            "only the owner can reset an admin's password".into(),
                        ))
                    }
                    _ => {}
                }
                session.name.clone()
            }
        };
        let code = random_code(16);
        let at = now_ms();
        let expires_at = at.saturating_add((RESET_SECS as i64).saturating_mul(1000));
        let reset = NewReset {
            user,
            code_hash: token_hash(&code),
            expires_at,
            created_by,
            at,
        };
        let by = reset.created_by.clone();
        self.store
            .create_reset(reset)
            .await
            .map_err(|e| e.into_refusal())?;
        tracing::info!(user = %account.name, %by, "password reset link made");
        Ok((account.name, code, expires_at))
    }

    /// Logs in with a reset link's `code` and a new `password` (from a client at
    /// `from`): answers the account's display name and a fresh session token. A code
    /// that is not this account's valid one is `auth_failed`, saying only that the
    /// link is not valid; it counts as a failed login for the throttle.
    pub async fn reset_password(
        &self,
        username: &str,
        password: &str,
        code: &str,
        from: IpAddr,
    ) -> Result<(String, String), Refusal> {
        validate_username(username).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        self.check_new_password(password)?;
        let user = UserKey::of(username);
        self.may_try_password(&user, from)?;
        let not_valid = || {
            Refusal::NotAllowed(
                "this password reset link is not valid (used, expired or unknown)".into(),
            )
        };
        let account = self
            .store
            .account(user.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        let token = new_token();
        // Hashed whether or not the account exists, so that the time taken says
        // nothing about it.
        let hash = self.hasher.hash(password.to_owned()).await?;
        let spent = match account {
            None => false,
            Some(account) if code.is_empty() || account.banned => false,
            Some(_) => {
                let used = UsedReset {
                    user: user.clone(),
                    code_hash: token_hash(code),
                    password_hash: hash,
                    token_hash: token_hash(&token),
                    at: now_ms(),
                };
                self.store
                    .use_reset(used)
                    .await
                    .map_err(|e| e.into_refusal())?
            }
        };
        if !spent {
            tracing::info!(user = %user.as_str(), %from, "invalid password reset code");
            self.throttle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .failed(&user, from, Instant::now());
            return Err(not_valid());
        }
        self.end_sessions(&user, None, None, Ended::PasswordChanged);
        let name = self
            .lock()
            .users
            .get(&user)
            .map_or_else(|| username.to_owned(), |u| u.name.clone());
        tracing::info!(user = %name, "password reset");
        Ok((name, token))
    }

    /// `setDeletedMessages` (owner only), or `None`: the mode in force
    /// (`getAccountSettings`, owner and admins).
    pub async fn deleted_messages(
        &self,
        session: &Session,
        mode: Option<DeletedMessages>,
    ) -> Result<DeletedMessages, Refusal> {
        let allowed = match mode {
            Some(_) => !session.guest && self.role_of(&session.user) == Role::Owner,
            None => self.manages(session),
        };
        if !allowed {
            return Err(Refusal::Forbidden(match mode {
                Some(_) => {
                    "only the owner chooses what happens to a deleted account's messages".into()
                }
                None => "only the owner and admins see the account settings".into(),
            }));
        }
        let mode = self
            .store
            .deleted_messages(mode)
            .await
            .map_err(|e| e.into_refusal())?;
        Ok(mode)
    }

    /// `deleteAccount`: the session's user deletes their own account, proving it with
    /// their password (a wrong one counts as a failed login from `from`). Every other
    /// connection of theirs ends at once (4001 "account deleted"); the asking one
    /// closes after its answer.
    pub async fn delete_account(
        &self,
        session: &Session,
        from: IpAddr,
        password: &str,
    ) -> Result<(), Refusal> {
        if session.guest {
            return Err(Refusal::Forbidden("a guest has no account".into()));
        }
        if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
            return Err(Refusal::BadRequest(format!(
                "a password has 1 to {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        let account = self
            .store
            .account(session.user.clone())
            .await
            .map_err(|e| e.into_refusal())?
            .ok_or_else(|| Refusal::NotFound("no such account".into()))?;
        if account.role == Role::Owner {
            return Err(Refusal::Forbidden(
                "the owner cannot delete their own account".into(),
            ));
        }
        self.may_try_password(&session.user, from)?;
        let Some(hash) = account.password_hash else {
            return Err(Refusal::Forbidden("this account has no password".into()));
        };
        if !self
            .check_password(&session.user, from, password, hash)
            .await?
        {
            return Err(Refusal::AuthFailed);
        }
        let mode = self
            .store
            .deleted_messages(None)
            .await
            .map_err(|e| e.into_refusal())?;
        // The other connections end before the store works, so that none of them
        // writes under the old name meanwhile.
        self.end_sessions(&session.user, Some(session.id), None, Ended::AccountDeleted);
        let deletion = AccountDeletion {
            user: session.user.clone(),
            name: account.name.clone(),
            mode,
            // `!` is in no username: no account ever has this key.
            orphan_key: format!("!deleted:{}", random_code(10)),
            at: now_ms(),
        };
        self.store
            .delete_account(deletion)
            .await
            .map_err(|e| e.into_refusal())?;
        self.end_sessions(&session.user, Some(session.id), None, Ended::AccountDeleted);
        self.forget_account(&session.user, &account.name);
        self.store.tell_nodes(crate::store::Notice::Deleted {
            name: account.name.clone(),
        });
        tracing::info!(user = %account.name, mode = mode.as_str(), "account deleted");
        Ok(())
    }

    /// Drops a deleted account from the world: its name is free, its role, blocks and
    /// mutes gone, no room counts it as its creator; its entry goes once its last
    /// connection has closed (so that others are told it went offline).
    pub(super) fn forget_account(&self, user: &UserKey, name: &str) {
        let mut state = self.lock();
        if let Some(entry) = state.users.get_mut(user) {
            entry.role = Role::Member;
            entry.blocked.clear();
        }
        // Nobody's block of the old account holds against a later one of its name.
        for other in state.users.values_mut() {
            other.blocked.remove(user);
        }
        for fold in name_folds(name) {
            if state.names.get(&fold) == Some(user) {
                state.names.remove(&fold);
            }
        }
        for room in state.rooms.values_mut() {
            room.members.remove(user);
            room.settings.muted.retain(|m| m != user);
            if room
                .creator
                .as_deref()
                .is_some_and(|c| UserKey::of(c) == *user)
                && !room.creator_guest
            {
                room.creator = None;
            }
        }
        drop(state);
        let (Some(hub), Ok(rt)) = (self.me.upgrade(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let user = user.clone();
        rt.spawn(async move {
            for _ in 0..FORGET_TRIES {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut state = hub.lock();
                let Some(entry) = state.users.get(&user) else {
                    return;
                };
                if !entry.sessions.is_empty() {
                    continue;
                }
                // Not if the name was registered again meanwhile with another role.
                let reused = entry.guest
                    || entry.role != Role::Member
                    || state.registering.contains_key(&user);
                if !reused {
                    state.users.remove(&user);
                }
                return;
            }
        });
    }
}

/// How many times (20 ms apart) a deleted account's entry waits for its connections.
const FORGET_TRIES: u32 = 500;
