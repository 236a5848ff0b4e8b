//! A login as the web app keeps it: the credentials for the next `auth`, what
//! `localStorage` holds between page loads (never the password), and what a refused
//! `auth` means for the session. Plain Rust, tested natively.

use crate::protocol::{codes, AuthRequest, ErrorBody};
use crate::reply;
use serde::{Deserialize, Serialize};

/// The `localStorage` key of the saved session.
pub const SESSION_KEY: &str = "parlor.session";

/// The `localStorage` key of one user's `what` (`last`, `chat`, `status`, `outbox`, …).
pub fn storage_key(what: &str, user: &str) -> String {
    format!("parlor.{what}.{}", crate::case::lower(user))
}

/// What `localStorage` keeps of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    pub username: String,
    pub token: String,
}

impl SavedSession {
    /// Reads a saved session; anything unreadable is no session.
    pub fn parse(json: &str) -> Option<SavedSession> {
        serde_json::from_str(json).ok()
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// What the next `auth` may use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credentials {
    /// Password credentials, only until the server answers with a token.
    pub password: Option<AuthRequest>,
    pub token: Option<String>,
    /// The logged-in user, also known before `auth` answers when resuming a session.
    pub user: Option<String>,
}

impl Credentials {
    /// The `auth` to send: by token once there is one, else by password; None when
    /// there is neither.
    pub fn auth_request(&self) -> Option<AuthRequest> {
        match (&self.token, &self.user) {
            (Some(token), Some(username)) => Some(AuthRequest {
                username: username.clone(),
                password: String::new(),
                token: Some(token.clone()),
                invite: None,
                reset: None,
            }),
            _ => self.password.clone(),
        }
    }
}

/// What a failed `auth` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// The connection was lost before the answer: the close handler retries or reports.
    Lost,
    /// Passing trouble with a saved session: keep it, show this, retry with backoff.
    Retry(String),
    /// The session is over: log out, showing this on the login form.
    End(String),
}

/// Classifies the error a `auth` got; `with_token` when it used a session token.
/// The message of a refused login that says only that it failed (a wrong password).
const GENERIC_AUTH_FAILURE: &str = "login failed";

/// A server's message as a sentence: a capital first letter and a full stop.
fn sentence(message: &str) -> String {
    let first = message.chars().next().map_or(0, char::len_utf8);
    let mut out = crate::case::upper(&message[..first]);
    out.push_str(&message[first..]);
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

pub fn auth_failure(with_token: bool, error: ErrorBody) -> AuthFailure {
    if reply::is_closed(&error) {
        AuthFailure::Lost
    } else if with_token
        && (error.code == codes::TOO_MANY_CONNECTIONS || error.code == codes::INTERNAL)
    {
        AuthFailure::Retry(error.message)
    } else if with_token {
        AuthFailure::End(format!(
            "Your session has ended ({}). Please log in again.",
            error.message
        ))
    } else if error.code == codes::AUTH_FAILED && error.message == GENERIC_AUTH_FAILURE {
        AuthFailure::End("Wrong password for this username (or the name is taken).".to_owned())
    } else if error.code == codes::AUTH_FAILED {
        // Why a new name was refused (registration needs an invitation, or is closed).
        AuthFailure::End(sentence(&error.message))
    } else {
        AuthFailure::End(error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, message: &str) -> ErrorBody {
        ErrorBody {
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn keys_are_per_user_ignoring_case() {
        assert_eq!(storage_key("outbox", "Alice"), "parlor.outbox.alice");
        assert_eq!(storage_key("last", "alice"), storage_key("last", "ALICE"));
    }

    #[test]
    fn a_saved_session_round_trips_and_junk_is_none() {
        let saved = SavedSession {
            username: "al".into(),
            token: "t0k".into(),
        };
        let json = saved.to_json().expect("serializes");
        assert!(!json.contains("password"));
        assert_eq!(SavedSession::parse(&json), Some(saved));
        assert_eq!(SavedSession::parse("{\"username\":\"al\"}"), None);
        assert_eq!(SavedSession::parse("junk"), None);
    }

    #[test]
    fn the_token_wins_over_the_password() {
        let password = AuthRequest {
            username: "al".into(),
            password: "pw".into(),
            token: None,
            invite: None,
            reset: None,
        };
        let mut c = Credentials::default();
        assert_eq!(c.auth_request(), None);
        c.password = Some(password.clone());
        assert_eq!(c.auth_request(), Some(password.clone()));
        // A token without a known user is not enough.
        c.token = Some("t".into());
        assert_eq!(c.auth_request(), Some(password));
        c.user = Some("al".into());
        let by_token = c.auth_request().expect("a token auth");
        assert_eq!(by_token.token.as_deref(), Some("t"));
        assert_eq!(by_token.password, "");
        assert_eq!(by_token.username, "al");
    }

    #[test]
    fn refused_logins_end_the_session_with_a_reason() {
        use AuthFailure::*;
        assert_eq!(auth_failure(true, reply::closed("gone")), Lost);
        assert_eq!(auth_failure(false, reply::closed("gone")), Lost);
        assert_eq!(
            auth_failure(true, error(codes::TOO_MANY_CONNECTIONS, "too many")),
            Retry("too many".into())
        );
        assert_eq!(
            auth_failure(true, error(codes::INTERNAL, "disk")),
            Retry("disk".into())
        );
        assert_eq!(
            auth_failure(true, error(codes::AUTH_FAILED, "bad token")),
            End("Your session has ended (bad token). Please log in again.".into())
        );
        assert_eq!(
            auth_failure(false, error(codes::AUTH_FAILED, "login failed")),
            End("Wrong password for this username (or the name is taken).".into())
        );
        // A new name refused by the registration mode: the server says why.
        assert_eq!(
            auth_failure(
                false,
                error(
                    codes::AUTH_FAILED,
                    "signing up needs an invitation on this server"
                )
            ),
            End("Signing up needs an invitation on this server.".into())
        );
        assert_eq!(
            auth_failure(false, error(codes::INTERNAL, "disk")),
            End("disk".into())
        );
    }
}
