//! Changes another node made to what every node keeps in memory — sessions to end,
//! accounts made or deleted, roles, profiles, blocks, who may sign up — applied here
//! as that node applied them, and told to this node's clients as it told its own.
//! They come through the store ([`Store::tell_nodes`](crate::store::Store::tell_nodes),
//! PostgreSQL's `NOTIFY`), in the order they were made; the store itself already holds
//! each change, so a node that missed one (its connection broke) has it at its next
//! start, and logins and writes always check the store.

use super::{names, Ended, Hub, Live, LiveShared, Outbound, UserEntry};
use crate::domain::UserKey;
use crate::store::{Member, Notice};

impl Hub {
    /// A change another node made.
    pub(super) fn heard_notice(&self, notice: &Notice) {
        match notice {
            Notice::EndSessions { user, token, why } => {
                let Some(why) = Ended::parse(why) else {
                    tracing::warn!(why = %why, "a notice to end sessions with an unknown reason");
                    return;
                };
                self.end_local_sessions(&UserKey::of(user), None, token.as_deref(), why);
            }
            Notice::Registered { name, role } => {
                let key = UserKey::of(name);
                let mut state = self.lock();
                if state.users.get(&key).is_some_and(|u| u.guest) {
                    // A guest here held the name while the other node registered it:
                    // the account wins; the guest keeps its connection until it leaves.
                    tracing::warn!(user = %name, "a guest holds a name registered on another node");
                    return;
                }
                names::hold(&mut state.names, name, &key);
                state
                    .users
                    .entry(key)
                    .or_insert_with(|| UserEntry::new(name, false))
                    .role = *role;
            }
            Notice::Role { name, role } => {
                let key = UserKey::of(name);
                let mut state = self.lock();
                let Some(entry) = state.users.get_mut(&key) else {
                    return;
                };
                entry.role = *role;
                let member = Member {
                    key,
                    name: name.clone(),
                };
                super::rooms::tell_role(&mut state, &member, *role);
            }
            Notice::Profile { name, profile } => {
                let key = UserKey::of(name);
                let mut state = self.lock();
                let Some(entry) = state.users.get_mut(&key) else {
                    return;
                };
                entry.profile = profile.clone();
                let shown = super::people::profile_of(&entry.name, entry.role, profile);
                let item = Outbound::Live(LiveShared::new(Live::Profile(shown)));
                for s in state.sessions.values_mut() {
                    Hub::push(s, item.clone());
                }
            }
            Notice::Blocked {
                user,
                other,
                blocked,
            } => {
                let other = UserKey::of(other);
                if let Some(entry) = self.lock().users.get_mut(&UserKey::of(user)) {
                    if *blocked {
                        entry.blocked.insert(other);
                    } else {
                        entry.blocked.remove(&other);
                    }
                }
            }
            Notice::Registration { mode } => {
                *self
                    .access
                    .mode
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = *mode;
            }
            Notice::Deleted { name } => self.forget_account(&UserKey::of(name), name),
        }
    }
}
