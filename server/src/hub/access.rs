//! Who may join (issue 13): the registration mode, the roles, and invitations. The
//! owner switches registration (`open`, `invite`, `closed`); the owner and admins make
//! invitations, each with a role, a number of uses and an expiry, and see and revoke
//! them. An invitation's code is 128 random bits shown once to whoever made it; the
//! store keeps its hash, so a copy of the database does not hold working codes.
//!
//! The rules of registration itself are applied where accounts are made
//! ([`Hub::authenticate`] and the store's `register`); guests are refused here too
//! whenever registration is not open.

use super::commands::token_hash;
use super::{Hub, Session, State};
use crate::domain::{now_ms, Refusal, UserKey};
use crate::store::NewInvite;
use app::protocol::{
    InviteInfo, Registration, Role, DEFAULT_INVITE_SECS, MAX_INVITE_SECS, MAX_INVITE_USES,
};
use std::sync::Mutex;

/// The registration mode in force (its own lock: logins read it).
pub struct Access {
    pub(super) mode: Mutex<Registration>,
}

impl Access {
    pub fn new(mode: Registration) -> Access {
        Access {
            mode: Mutex::new(mode),
        }
    }
}

/// An invitation to make: its role, its uses and how long it stays valid (seconds).
#[derive(Debug, Clone, Copy)]
pub struct InviteSpec {
    pub role: Role,
    pub uses: Option<u32>,
    pub expires_in: Option<u64>,
}

/// Who makes an invitation: a person (with their role), or the server's console
/// (`parlor invite`, which has every right).
pub enum Maker<'a> {
    Person(&'a Session),
    Console,
}

impl Hub {
    /// The registration mode in force.
    pub fn registration(&self) -> Registration {
        *self
            .access
            .mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether guests (the dialects without passwords) may come in: not with
    /// `--no-guests`, and only while registration is open.
    pub fn guests_welcome(&self) -> bool {
        self.limits.allow_guests && self.registration() == Registration::Open
    }

    /// A user's role (a guest, or a name without an account: `member`).
    pub fn role_of(&self, user: &UserKey) -> Role {
        self.lock()
            .users
            .get(user)
            .filter(|u| !u.guest)
            .map_or(Role::Member, |u| u.role)
    }

    /// Whether the session's user manages people and rooms: the owner, an admin, or a
    /// name given with `--admin`. Never a guest.
    pub(super) fn manages(&self, session: &Session) -> bool {
        self.manages_in(&self.lock(), session)
    }

    /// [`Hub::manages`], for a caller that holds the world's lock.
    pub(super) fn manages_in(&self, state: &State, session: &Session) -> bool {
        !session.guest
            && (self.limits.admins.contains(&session.user)
                || state
                    .users
                    .get(&session.user)
                    .is_some_and(|u| !u.guest && u.role.manages()))
    }

    /// `setRegistration`: the owner switches who may sign up. Kept in the store (the
    /// `--registration` flag, when given, sets it again at the next start).
    pub async fn set_registration(
        &self,
        session: &Session,
        mode: Registration,
    ) -> Result<Registration, Refusal> {
        if session.guest || self.role_of(&session.user) != Role::Owner {
            return Err(Refusal::Forbidden(
                "only the owner can change who may sign up".into(),
            ));
        }
        self.store
            .set_registration(mode)
            .await
            .map_err(|e| e.into_refusal())?;
        *self
            .access
            .mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = mode;
        self.store
            .tell_nodes(crate::store::Notice::Registration { mode });
        tracing::info!(by = %session.name, mode = mode.as_str(), "registration changed");
        Ok(mode)
    }

    /// `createInvite` (owner and admins) and `parlor invite` (the console): answers the
    /// code, shown once, and the invitation as listed.
    pub async fn create_invite(
        &self,
        maker: Maker<'_>,
        spec: InviteSpec,
    ) -> Result<(String, InviteInfo), Refusal> {
        let created_by = match maker {
            Maker::Console => "parlor invite".to_owned(),
            Maker::Person(session) => {
                if !self.manages(session) {
                    return Err(Refusal::Forbidden(
                        "only the owner and admins can invite people".into(),
                    ));
                }
                let owner = self.role_of(&session.user) == Role::Owner;
                if spec.role == Role::Admin && !owner {
                    return Err(Refusal::Forbidden(
                        "only the owner can invite an admin".into(),
                    ));
                }
                session.name.clone()
            }
        };
        if spec.role == Role::Owner {
            return Err(Refusal::BadRequest(
                "a server has one owner: invite an admin instead".into(),
            ));
        }
        let uses = spec.uses.unwrap_or(1);
        if uses == 0 || uses > MAX_INVITE_USES {
            return Err(Refusal::BadRequest(format!(
                "an invitation has 1 to {MAX_INVITE_USES} uses"
            )));
        }
        let secs = spec.expires_in.unwrap_or(DEFAULT_INVITE_SECS);
        if secs == 0 || secs > MAX_INVITE_SECS {
            return Err(Refusal::BadRequest(format!(
                "an invitation lasts 1 to {MAX_INVITE_SECS} seconds"
            )));
        }
        let code = random_code(16);
        let at = now_ms();
        let invite = NewInvite {
            id: random_code(6),
            code_hash: token_hash(&code),
            role: spec.role,
            uses,
            expires_at: at.saturating_add((secs as i64).saturating_mul(1000)),
            created_by,
            at,
        };
        let info = self
            .store
            .create_invite(invite)
            .await
            .map_err(|e| e.into_refusal())?;
        tracing::info!(id = %info.id, by = %info.created_by, role = info.role.as_str(), uses, "invitation made");
        Ok((code, info))
    }

    /// `getInvites` (owner and admins): the mode in force and the valid invitations.
    pub async fn invites(
        &self,
        session: &Session,
    ) -> Result<(Registration, Vec<InviteInfo>), Refusal> {
        if !self.manages(session) {
            return Err(Refusal::Forbidden(
                "only the owner and admins see the invitations".into(),
            ));
        }
        let list = self
            .store
            .invites(now_ms())
            .await
            .map_err(|e| e.into_refusal())?;
        Ok((self.registration(), list))
    }

    /// `revokeInvite` (owner and admins).
    pub async fn revoke_invite(&self, session: &Session, id: &str) -> Result<(), Refusal> {
        if !self.manages(session) {
            return Err(Refusal::Forbidden(
                "only the owner and admins can revoke invitations".into(),
            ));
        }
        let gone = self
            .store
            .revoke_invite(id.to_owned())
            .await
            .map_err(|e| e.into_refusal())?;
        if !gone {
            return Err(Refusal::NotFound("no such invitation".into()));
        }
        tracing::info!(id, by = %session.name, "invitation revoked");
        Ok(())
    }

    /// Refuses a new account now (the mode is `closed`), or says whether it needs an
    /// invitation (`invite`).
    pub(super) fn may_register(&self, invite: Option<&str>) -> Result<bool, Refusal> {
        match self.registration() {
            Registration::Open => Ok(false),
            Registration::Invite if invite.is_some() => Ok(true),
            Registration::Invite => Err(Refusal::NotAllowed(
                "signing up needs an invitation on this server".into(),
            )),
            Registration::Closed => Err(Refusal::NotAllowed(
                "this server does not take new accounts".into(),
            )),
        }
    }
}

/// `bytes` random bytes as lowercase base32 without padding (letters and digits that
/// survive being read aloud or typed from a phone's screen).
pub(super) fn random_code(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    data_encoding::BASE32_NOPAD.encode(&raw).to_lowercase()
}
