//! Passwords and sessions beyond the login itself (which is in `commands`): the
//! failed-login throttle around every password check, the minimum length of a new
//! password, "log out everywhere", changing the password, token expiry on use, and
//! ending the live connections a revoked or expired token (or an old password) held.

use super::commands::{new_token, token_hash};
use super::{Ended, Hub, Session};
use crate::domain::{now_ms, Refusal, SessionId, UserKey};
use app::protocol::MAX_PASSWORD_BYTES;
use std::net::IpAddr;
use std::time::Instant;
use subtle::ConstantTimeEq;

impl Hub {
    /// Refuses a password attempt on `user` from `from` while that client must wait.
    pub(super) fn may_try_password(&self, user: &UserKey, from: IpAddr) -> Result<(), Refusal> {
        match self.throttle().check(user, from, Instant::now()) {
            Ok(()) => Ok(()),
            Err(wait) => Err(Refusal::RateLimited(format!(
                "too many failed logins: try again in {} s",
                wait.as_secs().max(1)
            ))),
        }
    }

    /// Checks `password` against the account's `hash` (on the hashing threads), and
    /// records the outcome for the throttle.
    pub(super) async fn check_password(
        &self,
        user: &UserKey,
        from: IpAddr,
        password: &str,
        hash: String,
    ) -> Result<bool, Refusal> {
        let right = self.hasher.verify(password.to_owned(), hash).await?;
        let mut throttle = self.throttle();
        if right {
            throttle.succeeded(user, from);
        } else {
            tracing::info!(user = %user.as_str(), %from, "failed login");
            throttle.failed(user, from, Instant::now());
        }
        Ok(right)
    }

    /// A new password must have `--min-password-length` characters (and at most 1024
    /// bytes).
    pub(super) fn check_new_password(&self, password: &str) -> Result<(), Refusal> {
        let min = self.limits.min_password_length;
        if password.chars().count() < min {
            return Err(Refusal::BadRequest(format!(
                "a new password needs at least {min} characters"
            )));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(Refusal::BadRequest("a password has 1 to 1024 bytes".into()));
        }
        Ok(())
    }

    /// Revokes every session token of the session's user and ends every other
    /// connection of theirs (the asking one closes itself after its answer).
    pub async fn logout_everywhere(&self, session: &Session) -> Result<(), Refusal> {
        self.store
            .revoke_user_tokens(session.user.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        self.end_sessions(
            &session.user,
            Some(session.id),
            None,
            Ended::LoggedOutEverywhere,
        );
        Ok(())
    }

    /// Changes the session user's password: `old` must be right (a wrong one counts as
    /// a failed login from `from`), `new` long enough. Every session token of the user
    /// is revoked and every other connection of theirs ends; the answer is a fresh
    /// token, which this connection now holds.
    pub async fn change_password(
        &self,
        session: &Session,
        from: IpAddr,
        old: &str,
        new: &str,
    ) -> Result<String, Refusal> {
        if old.is_empty() || old.len() > MAX_PASSWORD_BYTES {
            return Err(Refusal::BadRequest(
                "the current password has 1 to 1024 bytes".into(),
            ));
        }
        self.check_new_password(new)?;
        self.may_try_password(&session.user, from)?;
        let account = self
            .store
            .account(session.user.clone())
            .await
            .map_err(|e| e.into_refusal())?;
        let Some(hash) = account.and_then(|a| a.password_hash) else {
            return Err(Refusal::Forbidden("this account has no password".into()));
        };
        if !self.check_password(&session.user, from, old, hash).await? {
            return Err(Refusal::AuthFailed);
        }
        let hash = self.hasher.hash(new.to_owned()).await?;
        let token = new_token();
        let held = token_hash(&token);
        self.store
            .change_password(session.user.clone(), hash, held.clone(), now_ms())
            .await
            .map_err(|e| e.into_refusal())?;
        if let Some(entry) = self.lock().sessions.get_mut(&session.id) {
            entry.token = Some(held);
        }
        self.end_sessions(
            &session.user,
            Some(session.id),
            None,
            Ended::PasswordChanged,
        );
        tracing::info!(user = %session.name, "password changed");
        Ok(token)
    }

    /// Forgets the tokens past their lifetime and ends the connections holding them.
    pub async fn expire_tokens(&self) -> Result<usize, Refusal> {
        let expired = self
            .store
            .expire_tokens(self.token_cutoff())
            .await
            .map_err(|e| e.into_refusal())?;
        if expired.is_empty() {
            return Ok(0);
        }
        let mut state = self.lock();
        for session in state.sessions.values_mut() {
            let Some(held) = &session.token else { continue };
            if expired.iter().any(|e| same_token(held, e)) {
                session.kicked = true;
                session.kick.end(Ended::Expired);
            }
        }
        Ok(expired.len())
    }

    /// Tokens last used to log in before this are no longer valid.
    pub(super) fn token_cutoff(&self) -> i64 {
        let lifetime = i64::try_from(self.limits.token_lifetime.as_millis()).unwrap_or(i64::MAX);
        now_ms().saturating_sub(lifetime)
    }

    /// Ends the connections of `user` (but `except`) — those holding the token whose
    /// hash is `token`, or all of them — telling each `why`; and tells the other nodes
    /// sharing the store to end theirs.
    pub(super) fn end_sessions(
        &self,
        user: &UserKey,
        except: Option<SessionId>,
        token: Option<&str>,
        why: Ended,
    ) {
        self.end_local_sessions(user, except, token, why);
        self.store.tell_nodes(crate::store::Notice::EndSessions {
            user: user.as_str().to_owned(),
            token: token.map(str::to_owned),
            why: why.code().to_owned(),
        });
    }

    /// [`Hub::end_sessions`] on this node only (what another node asked).
    pub(super) fn end_local_sessions(
        &self,
        user: &UserKey,
        except: Option<SessionId>,
        token: Option<&str>,
        why: Ended,
    ) {
        let mut state = self.lock();
        let super::State {
            users, sessions, ..
        } = &mut *state;
        let Some(entry) = users.get(user) else {
            return;
        };
        for id in &entry.sessions {
            if Some(*id) == except {
                continue;
            }
            let Some(session) = sessions.get_mut(id) else {
                continue;
            };
            let holds = match token {
                None => true,
                Some(hash) => session
                    .token
                    .as_deref()
                    .is_some_and(|held| same_token(held, hash)),
            };
            if holds {
                session.kicked = true;
                session.kick.end(why);
            }
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, super::throttle::Throttle> {
        // A panic while holding the lock is a bug; keep the records as they are.
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Compares two token hashes in constant time.
fn same_token(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
