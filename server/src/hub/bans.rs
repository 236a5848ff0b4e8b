//! Bans (issue 13): the owner and admins shut an account out. A ban is stored with who
//! gave it and when, the account's session tokens are deleted in the same write, and
//! every open connection of the account ends at once (close 4001 "banned"); a banned
//! account's password login is refused (`auth_failed`, saying so) on every protocol
//! that has accounts (native, RWCI). Its messages stay. A ban is listed (`getBans`) and
//! reversible (`ban` with `banned: false`); the account then logs in with its password
//! again.

use super::{Ended, Hub, Session};
use crate::domain::{now_ms, Refusal, UserKey};
use app::protocol::{BanInfo, Role, StorageReport};

impl Hub {
    /// `ban`: bans `name` (or lets it back in). The owner cannot be banned; only the
    /// owner bans an admin; nobody bans themself.
    pub async fn ban(&self, session: &Session, name: &str, banned: bool) -> Result<(), Refusal> {
        if !self.manages(session) {
            return Err(Refusal::Forbidden(
                "only the owner and admins can ban people".into(),
            ));
        }
        let target = UserKey::of(name);
        if target == session.user {
            return Err(Refusal::BadRequest("you cannot ban yourself".into()));
        }
        let Some(account) = self
            .store
            .account(target.clone())
            .await
            .map_err(|e| e.into_refusal())?
        else {
            return Err(Refusal::NotFound("no account of that name".into()));
        };
        match account.role {
            Role::Owner => {
                return Err(Refusal::Forbidden("the owner cannot be banned".into()));
            }
            Role::Admin if self.role_of(&session.user) != Role::Owner => {
                return Err(Refusal::Forbidden("only the owner can ban an admin".into()));
            }
            _ => {}
        }
        let ban = banned.then(|| (session.name.clone(), now_ms()));
        self.store
            .set_banned(target.clone(), ban)
            .await
            .map_err(|e| e.into_refusal())?;
        if banned {
            self.end_sessions(&target, None, None, Ended::Banned);
        }
        tracing::info!(user = %account.name, by = %session.name, banned, "ban changed");
        Ok(())
    }

    /// `getStorage` (the owner and admins): what the data takes, and where it goes.
    pub async fn storage(&self, session: &Session) -> Result<StorageReport, Refusal> {
        if !self.manages(session) {
            return Err(Refusal::Forbidden(
                "only the owner and admins see the storage".into(),
            ));
        }
        self.store.storage().await.map_err(|e| e.into_refusal())
    }

    /// `getBans` (the owner and admins).
    pub async fn bans(&self, session: &Session) -> Result<Vec<BanInfo>, Refusal> {
        if !self.manages(session) {
            return Err(Refusal::Forbidden(
                "only the owner and admins see who is banned".into(),
            ));
        }
        self.store.bans().await.map_err(|e| e.into_refusal())
    }
}
