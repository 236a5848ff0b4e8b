//! Who may join, on SQLite: accounts with their roles, the owner's settings, and
//! invitations (schema migration "who may join"). Registration runs here as one job of
//! the writer, so that the first account is the owner and an invitation's uses are
//! counted exactly, whatever else registers at the same moment.

use super::ops::{general_id, join, load_account};
use super::Applied;
use crate::domain::{Refusal, UserKey};
use crate::store::{Account, NewAccount, NewInvite, StoreError};
use app::protocol::{BanInfo, InviteInfo, Millis, Registration, Role, MAX_OPEN_INVITES};
use rusqlite::{params, Connection, OptionalExtension};

/// The setting that holds the registration mode.
const REGISTRATION: &str = "registration";

/// Creates an account and puts it in General; answers the existing account and
/// `false` if the name is taken. See [`Store::register`](crate::store::Store::register).
pub fn register(
    conn: &Connection,
    new: NewAccount,
) -> Result<Applied<(Account, bool)>, StoreError> {
    let key = UserKey::of(&new.name);
    if let Some(existing) = load_account(conn, &key)? {
        return Ok(Applied::quiet((existing, false)));
    }
    let invited = match &new.invite {
        Some(hash) => Some(use_invite(conn, hash, new.at)?),
        None if new.invite_needed => {
            return Err(Refusal::NotAllowed("signing up needs an invitation".into()).into())
        }
        None => None,
    };
    let has_owner: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'owner')")?
        .query_row([], |r| r.get(0))?;
    let role = if has_owner {
        invited.unwrap_or_default()
    } else {
        Role::Owner
    };
    conn.execute(
        "INSERT INTO users (key, name, password_hash, created_at, role) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key.as_str(), new.name, new.password_hash, new.at, role.as_str()],
    )?;
    let general = general_id(conn)?;
    let event = join(conn, general, &key, &new.name, None, new.at)?;
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
fn use_invite(conn: &Connection, hash: &str, at: Millis) -> Result<Role, StoreError> {
    let found: Option<(String, String)> = conn
        .query_row(
            "SELECT id, role FROM invites WHERE code_hash = ?1 AND uses_left > 0 AND expires_at > ?2",
            params![hash, at],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, role)) = found else {
        return Err(Refusal::NotAllowed(
            "this invitation is not valid (unknown, used up or expired)".into(),
        )
        .into());
    };
    conn.execute(
        "UPDATE invites SET uses_left = uses_left - 1 WHERE id = ?1",
        [&id],
    )?;
    // Used up: nothing of it is worth keeping.
    conn.execute(
        "DELETE FROM invites WHERE id = ?1 AND uses_left <= 0",
        [&id],
    )?;
    role_of(&role)
}

fn role_of(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text:?}")))
}

/// The registration mode the owner last chose, if any.
pub fn registration(conn: &Connection) -> Result<Option<Registration>, StoreError> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE name = ?1",
            [REGISTRATION],
            |r| r.get(0),
        )
        .optional()?;
    value
        .map(|v| {
            Registration::parse(&v)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown registration mode {v:?}")))
        })
        .transpose()
}

pub fn set_registration(conn: &Connection, mode: Registration) -> Result<Applied<()>, StoreError> {
    conn.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![REGISTRATION, mode.as_str()],
    )?;
    Ok(Applied::quiet(()))
}

pub fn create_invite(conn: &Connection, new: NewInvite) -> Result<Applied<InviteInfo>, StoreError> {
    // Lapsed and used-up invitations go first: they are only clutter.
    conn.execute(
        "DELETE FROM invites WHERE expires_at <= ?1 OR uses_left <= 0",
        [new.at],
    )?;
    let open: i64 = conn.query_row("SELECT COUNT(*) FROM invites", [], |r| r.get(0))?;
    if open as usize >= MAX_OPEN_INVITES {
        return Err(Refusal::RateLimited(format!(
            "{MAX_OPEN_INVITES} invitations are valid already: revoke some first"
        ))
        .into());
    }
    conn.execute(
        "INSERT INTO invites (id, code_hash, role, uses_left, expires_at, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.id,
            new.code_hash,
            new.role.as_str(),
            new.uses,
            new.expires_at,
            new.created_by,
            new.at
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

pub fn invites(conn: &Connection, at: Millis) -> Result<Vec<InviteInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, role, uses_left, expires_at, created_by, created_at FROM invites
         WHERE expires_at > ?1 AND uses_left > 0 ORDER BY created_at DESC, id",
    )?;
    let rows = stmt.query_map([at], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, role, uses_left, expires_at, created_by, created_at) = row?;
        out.push(InviteInfo {
            id,
            role: role_of(&role)?,
            uses_left,
            expires_at,
            created_by,
            created_at,
        });
    }
    Ok(out)
}

pub fn set_banned(
    conn: &Connection,
    user: &UserKey,
    ban: Option<(String, Millis)>,
) -> Result<Applied<bool>, StoreError> {
    let banned = ban.is_some();
    let (by, at) = ban.unzip();
    let found = conn.execute(
        "UPDATE users SET banned_by = ?2, banned_at = ?3 WHERE key = ?1",
        params![user.as_str(), by, at],
    )?;
    if banned {
        conn.execute("DELETE FROM tokens WHERE user_key = ?1", [user.as_str()])?;
        super::push::forget(conn, user)?;
    }
    Ok(Applied::quiet(found > 0))
}

pub fn bans(conn: &Connection) -> Result<Vec<BanInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, banned_by, banned_at FROM users WHERE banned_at IS NOT NULL
         ORDER BY banned_at DESC, key",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(BanInfo {
            user_id: r.get(0)?,
            banned_by: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            banned_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn revoke_invite(conn: &Connection, id: &str) -> Result<Applied<bool>, StoreError> {
    let gone = conn.execute("DELETE FROM invites WHERE id = ?1", [id])?;
    Ok(Applied::quiet(gone > 0))
}
