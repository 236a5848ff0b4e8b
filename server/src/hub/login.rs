//! What a connection hands the hub to log in ([`Login`], [`Place`]) and how the hub
//! ends it again ([`Kick`], [`Ended`]): the small types every edge shares with the hub
//! for a session's start and end, kept apart from the hub's state.

use crate::domain::RoomId;
use std::sync::OnceLock;
use tokio::sync::Notify;

/// Why the hub ended a session (the connection closes, saying so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its outbound queue filled up.
    TooSlow,
    /// Its session token was revoked (`logout` on another connection).
    LoggedOut,
    /// Its user logged out everywhere.
    LoggedOutEverywhere,
    /// Its user changed the password on another connection.
    PasswordChanged,
    /// Its session token expired.
    Expired,
    /// Its user was banned.
    Banned,
    /// Its user deleted their account.
    AccountDeleted,
}

impl Ended {
    /// The word a notice to other nodes carries.
    pub fn code(self) -> &'static str {
        match self {
            Ended::TooSlow => "tooSlow",
            Ended::LoggedOut => "loggedOut",
            Ended::LoggedOutEverywhere => "loggedOutEverywhere",
            Ended::PasswordChanged => "passwordChanged",
            Ended::Expired => "expired",
            Ended::Banned => "banned",
            Ended::AccountDeleted => "accountDeleted",
        }
    }

    /// [`Ended::code`] read back.
    pub fn parse(code: &str) -> Option<Ended> {
        [
            Ended::TooSlow,
            Ended::LoggedOut,
            Ended::LoggedOutEverywhere,
            Ended::PasswordChanged,
            Ended::Expired,
            Ended::Banned,
            Ended::AccountDeleted,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }
}

/// How the hub tells a connection to end, and why (the first reason given wins).
#[derive(Debug, Default)]
pub struct Kick {
    notify: Notify,
    why: OnceLock<Ended>,
}

impl Kick {
    pub(super) fn end(&self, why: Ended) {
        let _ = self.why.set(why);
        self.notify.notify_one();
    }

    /// Resolves once the hub ends the session.
    pub async fn notified(&self) {
        self.notify.notified().await
    }

    /// Why the session was ended.
    pub fn why(&self) -> Ended {
        self.why.get().copied().unwrap_or(Ended::TooSlow)
    }
}

/// Where a session is, for the people in a room: everywhere its user is a member
/// (the native protocol, RWCI, Workspace), or in one room at a time (Workshop, whose
/// clients see who comes into and leaves the room they sit in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Everywhere,
    Room(RoomId),
}

/// How a connection logs in to the hub.
#[derive(Debug, Clone)]
pub struct Login {
    /// The account's display name (already authenticated).
    pub name: String,
    /// A guest (no password) rather than an account.
    pub guest: bool,
    /// Refused while the user has another connection (RWCI, Workshop).
    pub exclusive: bool,
    /// Whether this connection also receives the events of its own writes (dialects
    /// that echo a posted message back to its author); the native protocol answers
    /// the writer with a response instead.
    pub echo: bool,
    pub place: Place,
    /// The session token the connection holds (native): `logout` of that token, or its
    /// expiry, ends the connection.
    pub token: Option<String>,
}

impl Login {
    /// A native login: not exclusive, no echo, everywhere.
    pub fn account(name: &str) -> Login {
        Login {
            name: name.to_owned(),
            guest: false,
            exclusive: false,
            echo: false,
            place: Place::Everywhere,
            token: None,
        }
    }

    /// The same login, holding the session token `token`.
    pub fn holding(self, token: &str) -> Login {
        Login {
            token: Some(token.to_owned()),
            ..self
        }
    }
}
