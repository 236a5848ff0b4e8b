//! Who may join, on PostgreSQL: accounts with their roles, the owner's settings, and
//! invitations (schema migration "who may join"). Registration runs here as one job of
//! the writer, so that the first account is the owner and an invitation's uses are
//! counted exactly, whatever else registers at the same moment. Several nodes' writers
//! may register at once, so registration first locks the `sequencer` row (which its
//! join of General would lock anyway): registrations then take turns over the whole
//! cluster, and each sees the accounts and invitation uses of those before it.

use super::db::{big, Db};
use super::ops::{general_id, join, load_account};
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{Account, NewAccount, NewInvite, StoreError};
use app::protocol::{BanInfo, InviteInfo, Millis, Registration, Role, MAX_OPEN_INVITES};

/// The setting that holds the registration mode.
const REGISTRATION: &str = "registration";

/// Creates an account and puts it in General; answers the existing account and
/// `false` if the name is taken. See [`Store::register`](crate::store::Store::register).
pub fn register(db: &mut Db, new: NewAccount) -> Result<Applied<(Account, bool)>, StoreError> {
    let key = UserKey::of(&new.name);
    // Held to the commit; read committed, each statement after it sees what the
    // registrations before this one (on any node) committed.
    db.execute("SELECT 1 FROM sequencer FOR UPDATE", &[])?;
    if let Some(existing) = load_account(db, &key)? {
        return Ok(Applied::quiet((existing, false)));
    }
    let invited = match &new.invite {
        Some(hash) => Some(use_invite(db, hash, new.at)?),
        None if new.invite_needed => {
            return Err(Refusal::NotAllowed("signing up needs an invitation".into()).into())
        }
        None => None,
    };
    let has_owner: bool = db
        .one(
            "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'owner')",
            &[],
        )?
        .try_get(0)?;
    let role = if has_owner {
        invited.unwrap_or_default()
    } else {
        Role::Owner
    };
    db.execute(
        "INSERT INTO users (key, name, password_hash, created_at, role) VALUES ($1, $2, $3, $4, $5)",
        &[
            &key.as_str(),
            &new.name,
            &new.password_hash,
            &new.at,
            &role.as_str(),
        ],
    )?;
    let general = general_id(db)?;
    let event = join(db, general, &key, &new.name, None, new.at)?;
    let account = Account {
        name: new.name,
        password_hash: new.password_hash,
        acked_event: 0,
        role,
        banned: false,
    };
    Ok(Applied {
        value: (account, true),
        events: event.into_iter().collect(),
        origin: None,
    })
}

/// Takes one use of the invitation whose code hashes to `hash`; answers its role.
fn use_invite(db: &mut Db, hash: &str, at: Millis) -> Result<Role, StoreError> {
    let found = db.opt(
        "SELECT id, role FROM invites WHERE code_hash = $1 AND uses_left > 0 AND expires_at > $2",
        &[&hash, &at],
    )?;
    let Some(found) = found else {
        return Err(Refusal::NotAllowed(
            "this invitation is not valid (unknown, used up or expired)".into(),
        )
        .into());
    };
    let id: String = found.try_get(0)?;
    let role: String = found.try_get(1)?;
    db.execute(
        "UPDATE invites SET uses_left = uses_left - 1 WHERE id = $1",
        &[&id],
    )?;
    // Used up: nothing of it is worth keeping.
    db.execute(
        "DELETE FROM invites WHERE id = $1 AND uses_left <= 0",
        &[&id],
    )?;
    role_of(&role)
}

fn role_of(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text:?}")))
}

/// The registration mode the owner last chose, if any.
pub fn registration(db: &mut Db) -> Result<Option<Registration>, StoreError> {
    let row = db.opt(
        "SELECT value FROM settings WHERE name = $1",
        &[&REGISTRATION],
    )?;
    let value: Option<String> = match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    };
    value
        .map(|v| {
            Registration::parse(&v)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown registration mode {v:?}")))
        })
        .transpose()
}

pub fn set_registration(db: &mut Db, mode: Registration) -> Result<Applied<()>, StoreError> {
    db.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&REGISTRATION, &mode.as_str()],
    )?;
    Ok(Applied::quiet(()))
}

pub fn create_invite(db: &mut Db, new: NewInvite) -> Result<Applied<InviteInfo>, StoreError> {
    // Lapsed and used-up invitations go first: they are only clutter.
    db.execute(
        "DELETE FROM invites WHERE expires_at <= $1 OR uses_left <= 0",
        &[&new.at],
    )?;
    let open: i64 = db.one("SELECT COUNT(*) FROM invites", &[])?.try_get(0)?;
    if open >= big(MAX_OPEN_INVITES as u64) {
        return Err(Refusal::RateLimited(format!(
            "{MAX_OPEN_INVITES} invitations are valid already: revoke some first"
        ))
        .into());
    }
    db.execute(
        "INSERT INTO invites (id, code_hash, role, uses_left, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &new.id,
            &new.code_hash,
            &new.role.as_str(),
            &i64::from(new.uses),
            &new.expires_at,
            &new.created_by,
            &new.at,
        ],
    )?;
    Ok(Applied::quiet(InviteInfo {
        id: new.id,
        role: new.role,
        uses_left: new.uses,
        expires_at: new.expires_at,
        created_by: new.created_by,
        created_at: new.at,
    }))
}

pub fn invites(db: &mut Db, at: Millis) -> Result<Vec<InviteInfo>, StoreError> {
    let rows = db.query(
        "SELECT id, role, uses_left, expires_at, created_by, created_at FROM invites
         WHERE expires_at > $1 AND uses_left > 0 ORDER BY created_at DESC, id",
        &[&at],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let role: String = r.try_get(1)?;
        let uses_left: i64 = r.try_get(2)?;
        let uses_left = u32::try_from(uses_left)
            .map_err(|_| StoreError::Corrupt(format!("invitation with {uses_left} uses left")))?;
        out.push(InviteInfo {
            id: r.try_get(0)?,
            role: role_of(&role)?,
            uses_left,
            expires_at: r.try_get(3)?,
            created_by: r.try_get(4)?,
            created_at: r.try_get(5)?,
        });
    }
    Ok(out)
}

pub fn set_banned(
    db: &mut Db,
    user: &UserKey,
    ban: Option<(String, Millis)>,
) -> Result<Applied<bool>, StoreError> {
    let banned = ban.is_some();
    let (by, at) = ban.unzip();
    let found = db.execute(
        "UPDATE users SET banned_by = $2, banned_at = $3 WHERE key = $1",
        &[&user.as_str(), &by, &at],
    )?;
    if banned {
        db.execute("DELETE FROM tokens WHERE user_key = $1", &[&user.as_str()])?;
        super::push::forget(db, user)?;
    }
    Ok(Applied::quiet(found > 0))
}

pub fn bans(db: &mut Db) -> Result<Vec<BanInfo>, StoreError> {
    let rows = db.query(
        "SELECT name, banned_by, banned_at FROM users WHERE banned_at IS NOT NULL
         ORDER BY banned_at DESC, key",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(BanInfo {
            user_id: r.try_get(0)?,
            banned_by: r.try_get::<_, Option<String>>(1)?.unwrap_or_default(),
            banned_at: r.try_get(2)?,
        });
    }
    Ok(out)
}

pub fn revoke_invite(db: &mut Db, id: &str) -> Result<Applied<bool>, StoreError> {
    let gone = db.execute("DELETE FROM invites WHERE id = $1", &[&id])?;
    Ok(Applied::quiet(gone > 0))
}
