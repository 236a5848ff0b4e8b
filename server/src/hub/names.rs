//! Who holds which name. Accounts hold theirs for good; a guest is a visitor, kept in
//! memory only: it holds its name while it is connected and for the grace period after
//! (`--guest-grace`, so a reconnecting guest gets it back), it is a member of General
//! (and of the rooms it walked into) only while connected, and then its name is free
//! again. A password login cannot take a name a guest holds, and a later account of
//! that name inherits nothing: guests have no direct chats, and a room a guest created
//! can be cleared by a guest of that name only.
//!
//! Names are compared by their look-alike folds (`app::protocol::name_folds`): no two
//! holders, and no two rooms, share a fold, so `аlice` (Cyrillic `а`) cannot sit
//! beside `alice`. The folds of every account are loaded at start; a registration
//! holds its name's folds while its password is hashed and stored, so a guest (or a
//! look-alike registration) cannot slip in meanwhile.

use super::{Hub, RoomEntry, State, UserEntry, Visit};
use crate::domain::{Refusal, RoomId, UserKey, GENERAL};
use app::protocol::{name_folds, validate_new_username, validate_username, Role};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Records that `key` holds `name` (under each of its folds; a fold held already
/// stays with its holder).
pub(super) fn hold(names: &mut HashMap<String, UserKey>, name: &str, key: &UserKey) {
    for fold in name_folds(name) {
        names.entry(fold).or_insert_with(|| key.clone());
    }
}

/// Frees the folds of `name` that `key` holds.
fn release(names: &mut HashMap<String, UserKey>, name: &str, key: &UserKey) {
    for fold in name_folds(name) {
        if names.get(&fold) == Some(key) {
            names.remove(&fold);
        }
    }
}

/// Refuses `name` (`bad_request`, naming the holder) when it looks like a name that
/// someone other than `key` holds.
fn refuse_look_alike(state: &State, name: &str, key: &UserKey) -> Result<(), Refusal> {
    match look_alike_holder(state, name, key) {
        Some(holder) => {
            let holder = state
                .users
                .get(holder)
                .map_or_else(|| holder.to_string(), |u| u.name.clone());
            Err(Refusal::BadRequest(format!(
                "this name looks like {holder:?}, which is taken"
            )))
        }
        None => Ok(()),
    }
}

/// Who else holds a name that looks like `name`, if anyone.
fn look_alike_holder<'a>(state: &'a State, name: &str, key: &UserKey) -> Option<&'a UserKey> {
    name_folds(name)
        .iter()
        .filter_map(|f| state.names.get(f))
        .find(|holder| *holder != key)
}

pub(super) fn hold_room(rooms: &mut HashMap<String, Option<RoomId>>, name: &str, id: RoomId) {
    for fold in name_folds(name) {
        rooms.insert(fold, Some(id));
    }
}

/// Frees `key`'s guest name now if its grace ran out (the sweep may not have run yet).
fn free_if_lapsed(state: &mut State, key: &UserKey) {
    let lapsed = state.users.get(key).is_some_and(|u| {
        u.sessions.is_empty()
            && u.visit
                .is_some_and(|v| v.held_until.is_some_and(|t| t <= Instant::now()))
    });
    if let Some(entry) = lapsed.then(|| state.users.remove(key)).flatten() {
        release(&mut state.names, &entry.name, key);
    }
}

/// A guest's connection arrives: it is in General while connected, and holds its name.
pub(super) fn visit_general(state: &mut State, key: &UserKey) {
    if let Some(name) = state.users.get(key).map(|u| u.name.clone()) {
        hold(&mut state.names, &name, key);
    }
    let general = state.room_ids.get(&GENERAL.to_lowercase()).copied();
    if let Some(room) = general.and_then(|id| state.rooms.get_mut(&id)) {
        room.members.insert(key.clone());
    }
}

/// A guest's last connection closed: it leaves every room (nothing is logged: it was
/// never a stored member) and keeps its name for `grace`.
pub(super) fn end_visit(state: &mut State, key: &UserKey, grace: Duration) {
    let Some(entry) = state.users.get_mut(key) else {
        return;
    };
    if !entry.guest || !entry.sessions.is_empty() {
        return;
    }
    if let Some(visit) = entry.visit.as_mut() {
        visit.held_until = Some(Instant::now() + grace);
    }
    for room in state.rooms.values_mut() {
        room.members.remove(key);
        room.active.remove(key);
    }
}

impl Hub {
    /// Lets a guest (a dialect without passwords) in under `name`, from `address`.
    /// Refused when guests are off, when the name is an account's or looks like a name
    /// held by someone else, when it breaks the rules of new names, and when the
    /// address holds `--guests-per-address` guest names already. A name the guest
    /// holds (connected, or within its grace) is its own again.
    pub async fn guest_login(&self, name: &str, address: IpAddr) -> Result<String, Refusal> {
        if !self.guests_welcome() {
            return Err(Refusal::Forbidden(
                "guests are not allowed on this server".into(),
            ));
        }
        validate_username(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let key = UserKey::of(name);
        let mut state = self.lock();
        free_if_lapsed(&mut state, &key);
        if let Some(held) = state.users.get(&key) {
            if !held.guest {
                return Err(Refusal::Forbidden(
                    "this name belongs to a registered account".into(),
                ));
            }
            return Ok(held.name.clone());
        }
        if state.registering.contains_key(&key) {
            return Err(Refusal::Forbidden(
                "this name belongs to a registered account".into(),
            ));
        }
        validate_new_username(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        refuse_look_alike(&state, name, &key)?;
        let cap = self.limits.guests_per_address;
        if cap > 0 && !address.is_loopback() {
            let held = state
                .users
                .values()
                .filter(|u| u.visit.is_some_and(|v| v.address == address))
                .count();
            if held >= cap {
                return Err(Refusal::RateLimited(format!(
                    "at most {cap} guest names per address at once; try again later"
                )));
            }
        }
        let mut entry = UserEntry::new(name, true);
        entry.visit = Some(Visit {
            address,
            // Until its first connection arrives; then while connected.
            held_until: Some(Instant::now() + self.limits.guest_grace),
        });
        hold(&mut state.names, name, &key);
        state.users.insert(key, entry);
        Ok(name.to_owned())
    }

    /// Frees the names of guests whose grace ran out; run about once a second.
    pub fn sweep_guests(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        let gone: Vec<UserKey> = state
            .users
            .iter()
            .filter(|(_, u)| u.sessions.is_empty())
            .filter(|(_, u)| {
                u.visit
                    .is_some_and(|v| v.held_until.is_some_and(|t| t <= now))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            if let Some(entry) = state.users.remove(&key) {
                release(&mut state.names, &entry.name, &key);
                tracing::debug!(guest = %entry.name, "a guest's name is free again");
            }
        }
    }

    /// Holds `name` for a registration about to be stored: refused when a guest holds
    /// it (`auth_failed`: it is not this login's to take) or when it looks like a name
    /// someone else holds. Every `begin_registration` is followed by one
    /// [`Hub::end_registration`].
    pub(super) fn begin_registration(&self, name: &str) -> Result<(), Refusal> {
        validate_new_username(name).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let key = UserKey::of(name);
        let mut state = self.lock();
        free_if_lapsed(&mut state, &key);
        if state.users.get(&key).is_some_and(|u| u.guest) {
            tracing::info!(name, "a password login on a name a guest holds");
            return Err(Refusal::AuthFailed);
        }
        refuse_look_alike(&state, name, &key)?;
        hold(&mut state.names, name, &key);
        *state.registering.entry(key).or_default() += 1;
        Ok(())
    }

    /// The registration of `name` ended: its folds stay held if the account exists.
    pub(super) fn end_registration(&self, name: &str, stored: Option<Role>) {
        let key = UserKey::of(name);
        let mut state = self.lock();
        if let Some(n) = state.registering.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                state.registering.remove(&key);
            }
        }
        if let Some(role) = stored {
            state
                .users
                .entry(key.clone())
                .or_insert_with(|| UserEntry::new(name, false))
                .role = role;
            self.store.tell_nodes(crate::store::Notice::Registered {
                name: name.to_owned(),
                role,
            });
        } else if !state.registering.contains_key(&key) && !state.users.contains_key(&key) {
            release(&mut state.names, name, &key);
        }
    }

    /// Holds a new room's name (refused when it looks like an existing room's);
    /// followed by one [`Hub::end_room`].
    pub(super) fn begin_room(&self, name: &str) -> Result<(), Refusal> {
        let mut state = self.lock();
        let folds = name_folds(name);
        if state.room_ids.contains_key(&name.to_lowercase())
            || folds.iter().any(|f| state.room_folds.contains_key(f))
        {
            return Err(Refusal::Conflict(
                "a room with this name (or one that looks like it) already exists".into(),
            ));
        }
        for fold in folds {
            state.room_folds.insert(fold, None);
        }
        Ok(())
    }

    /// The creation of room `name` ended (`Some`: as room `id`, created by a guest or
    /// not).
    pub(super) fn end_room(&self, name: &str, created: Option<(RoomId, bool)>) {
        let mut state = self.lock();
        match created {
            Some((id, guest)) => {
                hold_room(&mut state.room_folds, name, id);
                if let Some(RoomEntry { creator_guest, .. }) = state.rooms.get_mut(&id) {
                    *creator_guest = guest;
                }
            }
            None => {
                for fold in name_folds(name) {
                    if state.room_folds.get(&fold) == Some(&None) {
                        state.room_folds.remove(&fold);
                    }
                }
            }
        }
    }

    /// A guest walks into a room (Workshop's room switch): a member while connected,
    /// nothing stored.
    pub(super) fn guest_join(&self, key: &UserKey, room: RoomId) {
        let mut state = self.lock();
        self.with_room_presence(&mut state, key, |state| {
            let kept = state.users.get(key).is_some_and(|u| u.counters.kept());
            if let Some(r) = state.rooms.get_mut(&room) {
                r.members.insert(key.clone());
                if kept {
                    r.active.insert(key.clone());
                }
            }
        });
    }

    /// A guest leaves a room: nothing stored.
    pub(super) fn guest_leave(&self, key: &UserKey, room: RoomId) {
        let mut state = self.lock();
        self.with_room_presence(&mut state, key, |state| {
            if let Some(r) = state.rooms.get_mut(&room) {
                r.members.remove(key);
                r.active.remove(key);
            }
        });
    }
}
