//! Persistence as the hub sees it: one trait of typed operations ([`Store`]) and the
//! values that cross it, so that the hub never touches a database and a second store
//! (PostgreSQL, for several nodes) can stand where SQLite stands.
//!
//! A write that changes what users can see appends events to the one log; once it is
//! durable, the store hands those events to the [`EventSink`] (the hub), in log order,
//! and only then answers the write. That stream is the only way the store reaches the
//! hub. Reads answer from what is committed.
//!
//! The embedded implementation is [`sqlite::SqliteStore`]: WAL, one writer thread that
//! commits in groups, a small pool of readers.

mod access;
mod accounts;
pub mod job;
mod people;
pub mod postgres;
mod push;
mod reactions;
mod rooms;
pub mod sqlite;

use crate::domain::{Chat, LogEvent, Message, ReceiptKind, Refusal, RoomId, SessionId, UserKey};
use app::protocol::{
    Attachment, BanInfo, EventId, InviteInfo, MessageId, Millis, NotifyLevel, Registration, Role,
};
use futures_util::future::BoxFuture;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

pub use access::{NewAccount, NewInvite};
pub use accounts::{AccountDeletion, NewReset, UsedReset};
pub use people::{ProfileChange, StoredProfile, UserRow};
pub use postgres::PgStore;
pub use push::{NtfyTopicRow, PushSubscription};
pub use reactions::{PinChange, React, StoredPin};
pub use rooms::{RoomChange, RoomState};
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error(
        "the database was written by a newer Parlor (schema version {found}; this build knows up to {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
    #[error("commit failed: {0}")]
    CommitFailed(String),
}

impl StoreError {
    /// What a client is told: refusals as they are, anything else as an internal error.
    pub fn into_refusal(self) -> Refusal {
        match self {
            StoreError::Refused(r) => r,
            other => {
                tracing::error!(error = %other, "store failure");
                Refusal::Internal("the server could not store or read this; try again".into())
            }
        }
    }
}

/// Receives committed events, in log order, right after their commit: the one way the
/// store reaches the hub.
pub trait EventSink: Send + Sync {
    /// `origin`: the session whose request wrote the events (it is answered instead).
    fn publish(&self, events: &[LogEvent], origin: Option<SessionId>);
    /// Events another node sharing this store committed (no session of this node
    /// asked for them).
    fn publish_elsewhere(&self, events: &[LogEvent]) {
        self.publish(events, None);
    }
    /// What another node sharing this store told the others ([`Store::tell_nodes`]).
    fn notice(&self, _notice: &Notice) {}
}

/// What one node tells the others that is not in the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Notice {
    /// End the connections of `user` (those holding the token whose hash is `token`,
    /// or all), saying `why` (a code of `hub::Ended`): their token was revoked, the
    /// account banned, its password changed, the account deleted.
    EndSessions {
        user: String,
        token: Option<String>,
        why: String,
    },
    /// An account was made: its name is taken, with this role.
    Registered { name: String, role: Role },
    /// An account's role changed.
    Role { name: String, role: Role },
    /// An account's profile changed.
    Profile {
        name: String,
        profile: StoredProfile,
    },
    /// `user` blocked `other`, or allowed them again.
    Blocked {
        user: String,
        other: String,
        blocked: bool,
    },
    /// Who may sign up changed.
    Registration { mode: Registration },
    /// An account was deleted.
    Deleted { name: String },
}

/// An answer of the store, later.
pub type StoreFuture<T> = BoxFuture<'static, Result<T, StoreError>>;

/// Every operation the hub needs from persistence. Writes that append to the log name
/// the session that asked (`origin`), which the published events carry.
pub trait Store: Send + Sync {
    /// Sets where committed events go. Called once, before the first write.
    fn set_sink(&self, sink: Arc<dyn EventSink>);
    /// Tells the other nodes sharing this store (none for an embedded store), at once
    /// and without waiting: their sinks get it through [`EventSink::notice`].
    fn tell_nodes(&self, _notice: Notice) {}
    /// The name every node sharing this store knows it by (none for an embedded store,
    /// which has no other nodes).
    fn cluster(&self) -> Option<String> {
        None
    }
    /// Stops taking writes, commits what is queued, and waits for that.
    fn close(&self);

    /// Rooms, their members, and all accounts: what the hub loads at start.
    fn load_world(&self) -> StoreFuture<World>;
    /// Forgets session tokens last used before `before`; answers their hashes.
    fn expire_tokens(&self, before: Millis) -> StoreFuture<Vec<String>>;

    fn account(&self, user: UserKey) -> StoreFuture<Option<Account>>;
    /// Creates an account in General; an existing name answers that account and
    /// `false`. (Guests are not stored: the hub keeps them while they visit.) The first
    /// account is the owner; an invitation gives its role and loses one use, and one
    /// that is unknown, used up or lapsed refuses the account (`NotAllowed`), as does
    /// none when `invite_needed`.
    fn register(&self, account: NewAccount) -> StoreFuture<(Account, bool)>;
    /// Keeps the registration mode the owner chose.
    fn set_registration(&self, mode: Registration) -> StoreFuture<()>;
    /// Stores an invitation; refused when [`MAX_OPEN_INVITES`](app::protocol::MAX_OPEN_INVITES)
    /// are valid already.
    fn create_invite(&self, invite: NewInvite) -> StoreFuture<InviteInfo>;
    /// The invitations valid at `at`, newest first.
    fn invites(&self, at: Millis) -> StoreFuture<Vec<InviteInfo>>;
    /// Ends invitation `id`; `false` when there was none.
    fn revoke_invite(&self, id: String) -> StoreFuture<bool>;
    /// Bans an account (`by` whom, when) and forgets its session tokens, or lets it
    /// back in (`None`); `false` when there is no such account.
    fn set_banned(&self, user: UserKey, ban: Option<(String, Millis)>) -> StoreFuture<bool>;
    /// The banned accounts, most recent first.
    fn bans(&self) -> StoreFuture<Vec<BanInfo>>;
    /// Stores a password reset code (its hash), replacing the account's earlier one.
    fn create_reset(&self, reset: NewReset) -> StoreFuture<()>;
    /// Spends the account's reset code if it is this one and valid: in one transaction
    /// the code goes, the password changes, every session token of the account goes
    /// and `token_hash` is kept as its only one. `false` (nothing changed) otherwise.
    fn use_reset(&self, reset: UsedReset) -> StoreFuture<bool>;
    /// What happens to a deleted account's messages: sets it when `mode` is given
    /// (kept in `settings`), and answers the mode in force (default `keep`).
    fn deleted_messages(
        &self,
        mode: Option<app::protocol::DeletedMessages>,
    ) -> StoreFuture<app::protocol::DeletedMessages>;
    /// Deletes an account: its messages kept under "deleted user" or erased as
    /// `delete` erases them (in batches, each with its `delete` events), its direct
    /// chats erased, its reactions, pins, receipts, settings, blocks (both ways),
    /// tokens and reset code gone, a `leave` logged for each room it was in; then the
    /// account itself.
    /// `false` when there is no such account.
    fn delete_account(&self, deletion: AccountDeletion) -> StoreFuture<bool>;
    /// Remembers the last event a user acknowledged (never moves back).
    fn set_acked(&self, user: UserKey, event: EventId) -> StoreFuture<()>;
    fn issue_token(&self, user: UserKey, hash: String, at: Millis) -> StoreFuture<()>;
    fn touch_token(&self, hash: String, at: Millis) -> StoreFuture<()>;
    fn revoke_token(&self, hash: String) -> StoreFuture<()>;
    /// Forgets every session token of a user.
    fn revoke_user_tokens(&self, user: UserKey) -> StoreFuture<()>;
    /// Sets a user's password hash, forgets every session token of theirs and keeps
    /// `token_hash` as their only one, in one transaction.
    fn change_password(
        &self,
        user: UserKey,
        password_hash: String,
        token_hash: String,
        at: Millis,
    ) -> StoreFuture<()>;
    /// The user a session token belongs to, if it was last used at or after
    /// `valid_since`.
    fn token_user(&self, hash: String, valid_since: Millis) -> StoreFuture<Option<UserKey>>;

    /// Stores a message; a repeated `client_message_id` of the same sender answers the
    /// first message's id and `true`, and appends nothing.
    fn post(&self, msg: NewMessage, origin: Option<SessionId>) -> StoreFuture<(MessageId, bool)>;
    fn edit(&self, edit: Edit, origin: Option<SessionId>) -> StoreFuture<()>;
    /// Erases a message's text and attachments, leaving a tombstone.
    fn delete(&self, delete: Delete, origin: Option<SessionId>) -> StoreFuture<()>;
    /// A `dlvrd`/`read` watermark.
    fn mark(&self, mark: Mark, origin: Option<SessionId>) -> StoreFuture<ReceiptOutcome>;
    fn create_room(&self, room: NewRoom, origin: Option<SessionId>) -> StoreFuture<RoomId>;
    /// Answers whether the user was not in the room already.
    /// Adds `member` to the room (`by` someone else: a manager adding them); answers
    /// whether they were not in it already.
    fn join_room(
        &self,
        room: RoomId,
        member: Member,
        by: Option<String>,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<bool>;
    /// Takes `member` out of the room (`by` someone else: a kick).
    fn leave_room(
        &self,
        room: RoomId,
        member: Member,
        by: Option<String>,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()>;
    /// Changes a room's settings and logs a `room` event with all of them; answers
    /// them.
    fn set_room(&self, change: RoomChange, origin: Option<SessionId>) -> StoreFuture<RoomState>;
    /// Erases, as `delete` does, up to `limit` messages of `room` sent before `before`
    /// (oldest first), each with its logged `delete`; answers how many.
    fn expire(&self, room: RoomId, before: Millis, limit: u32) -> StoreFuture<u32>;
    /// Changes `user`'s profile: a new avatar must be an upload of theirs of at most
    /// `max_avatar` bytes (the one it replaces is released). Answers the profile.
    fn set_profile(
        &self,
        user: UserKey,
        change: ProfileChange,
        max_avatar: u64,
    ) -> StoreFuture<StoredProfile>;
    /// `user` blocks `other` (or stops).
    fn set_blocked(
        &self,
        user: UserKey,
        other: UserKey,
        blocked: bool,
        at: Millis,
    ) -> StoreFuture<()>;
    /// What the data takes on disk, and where it goes.
    fn storage(&self) -> StoreFuture<app::protocol::StorageReport>;
    /// Sets an account's role; `false` when there is no such account.
    fn set_role(&self, user: UserKey, role: Role) -> StoreFuture<bool>;
    /// Erases a room's messages, receipts and earlier events, and logs the clearing.
    fn clear_room(
        &self,
        room: RoomId,
        actor: String,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()>;

    /// Adds or takes back one person's emoji on a message; answers whether anything
    /// changed (only then is a `reaction` event logged).
    fn react(&self, react: React, origin: Option<SessionId>) -> StoreFuture<bool>;
    /// Pins or unpins a message; answers whether anything changed (only then is a
    /// `pin` event logged).
    fn pin(&self, pin: PinChange, origin: Option<SessionId>) -> StoreFuture<bool>;
    /// The pinned messages of a chat, newest pin first.
    fn pins(&self, chat: Chat) -> StoreFuture<Vec<StoredPin>>;

    /// The `count` messages of `chat` ending at `end` (or the latest), oldest first.
    fn messages(
        &self,
        chat: Chat,
        end: Option<MessageId>,
        count: u32,
    ) -> StoreFuture<Vec<StoredMessage>>;
    /// The newest message id of a chat (0 when it has none).
    fn last_message_id(&self, chat: Chat) -> StoreFuture<MessageId>;
    /// Every chat the user is in, with its newest message id.
    fn chat_last_ids(&self, user: UserKey) -> StoreFuture<Vec<(Chat, MessageId)>>;
    /// The user's read marks and unread counts per chat, and the log position they
    /// include (one consistent view).
    fn unread_snapshot(&self, user: UserKey) -> StoreFuture<UnreadSnapshot>;
    /// Unread messages of `chat` for `user` with `after < id < before`.
    fn unread_between(
        &self,
        chat: Chat,
        user: UserKey,
        after: MessageId,
        before: MessageId,
    ) -> StoreFuture<u64>;
    /// Every member's delivered/read watermarks in a chat.
    fn receipt_marks(&self, chat: Chat) -> StoreFuture<Vec<(UserKey, MessageId, MessageId)>>;
    /// How many events after `after` the user may see, up to the log's head now.
    fn replay_plan(&self, user: UserKey, after: EventId) -> StoreFuture<ReplayPlan>;
    /// Up to `limit` events the user may see with `after < id <= upto`, in id order.
    fn replay_page(
        &self,
        user: UserKey,
        after: EventId,
        upto: EventId,
        limit: u32,
    ) -> StoreFuture<Vec<LogEvent>>;

    /// The bytes of the uploads `owner` keeps.
    fn upload_usage(&self, owner: UserKey) -> StoreFuture<u64>;
    /// Records a stored upload; `false` (and nothing recorded) when its owner would
    /// then keep more than `quota` bytes.
    fn record_upload(&self, upload: NewUpload, quota: u64) -> StoreFuture<bool>;
    /// Forgets the uploads no message refers to that were either released (the last
    /// message referring to one was deleted, edited or cleared) or recorded before
    /// `before`; answers their names, whose files are the caller's to remove.
    fn take_unreferenced_uploads(&self, before: Millis) -> StoreFuture<Vec<String>>;
    /// Notified after a commit that may have released uploads.
    fn uploads_released(&self) -> Arc<Notify>;
    /// The original name an upload was sent with (`None`: not recorded).
    fn upload_filename(&self, name: String) -> StoreFuture<Option<String>>;
    /// Keeps an upload's bytes, durably, under its file name (before it is recorded):
    /// SQLite's store in `--data/uploads`, PostgreSQL's in the database, where every
    /// node finds them.
    fn put_upload(&self, name: String, bytes: bytes::Bytes) -> StoreFuture<()>;
    /// An upload's bytes (`None`: there is no such file).
    fn upload_bytes(&self, name: String) -> StoreFuture<Option<Vec<u8>>>;
    /// Removes an upload's bytes (one already gone is not an error).
    fn remove_upload(&self, name: String) -> StoreFuture<()>;

    /// Sets `user`'s notification level of `chat` (issue 5/6 reads it for push).
    fn set_notify(&self, user: UserKey, chat: Chat, level: NotifyLevel) -> StoreFuture<()>;
    /// The levels `user` set; every other chat is at [`NotifyLevel::All`].
    fn notify_levels(&self, user: UserKey) -> StoreFuture<Vec<(Chat, NotifyLevel)>>;

    /// Keeps a device's push subscription for its person (an endpoint another person
    /// had moves to this one); past `max` of theirs, the oldest is dropped. Logging out
    /// everywhere, a password change or reset, a ban and deleting the account forget a
    /// person's subscriptions and ntfy topic.
    fn add_push_subscription(&self, sub: PushSubscription, max: usize) -> StoreFuture<()>;
    /// Forgets the subscription of `endpoint` (only `user`'s, when given); answers
    /// whether there was one.
    fn remove_push_subscription(
        &self,
        user: Option<UserKey>,
        endpoint: String,
    ) -> StoreFuture<bool>;
    /// `user`'s push subscriptions, oldest first.
    fn push_subscriptions(&self, user: UserKey) -> StoreFuture<Vec<PushSubscription>>;
    /// `user`'s ntfy topic, if they asked for one.
    fn ntfy_topic(&self, user: UserKey) -> StoreFuture<Option<NtfyTopicRow>>;
    /// Gives `user` the ntfy topic `topic` (replacing theirs).
    fn set_ntfy_topic(&self, user: UserKey, topic: NtfyTopicRow) -> StoreFuture<()>;
    /// Whose ntfy topic `topic` is.
    fn ntfy_topic_user(&self, topic: String) -> StoreFuture<Option<UserKey>>;

    /// Messages holding every term of `query` in the chats it names, newest first:
    /// never a deleted message, an edited one by its current text only. The hub has
    /// decided which chats the user may read; a store answers within bounded work (a
    /// search too broad to finish in time is refused, never a stalled reader). SQLite
    /// keeps an FTS5 index in the writer's transaction; PostgreSQL can offer the same
    /// with a `tsvector` column and `websearch_to_tsquery` (docs/architecture.md).
    fn search(&self, query: SearchQuery) -> StoreFuture<SearchPage>;
}

/// A search as the store runs it: what to find, where (already authorized), and the
/// page wanted.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// Words and phrases, each to be found (all of them, in any order).
    pub terms: Vec<app::search::Term>,
    /// The rooms searched.
    pub rooms: Vec<RoomId>,
    /// The direct chats searched.
    pub direct: DirectScope,
    /// Only messages this person sent (as an account, or as a guest of that name).
    pub sender: Option<UserKey>,
    /// Only messages older than this one.
    pub before: Option<MessageId>,
    /// Hits wanted (the page size).
    pub limit: u32,
}

/// Which direct chats a search covers.
#[derive(Debug, Clone, PartialEq)]
pub enum DirectScope {
    None,
    /// Every direct chat this user is in.
    AllOf(UserKey),
    /// This one.
    One(Chat),
}

/// One message found, in its chat.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub chat: Chat,
    pub message: Message,
}

/// A page of hits, newest first, and whether older ones exist.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub more: bool,
}

/// An upload as stored: its file's name under `uploads/`, its owner and size.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub name: String,
    pub owner: UserKey,
    pub bytes: u64,
    pub at: Millis,
    /// The name it was sent with (sanitised), for `Content-Disposition`.
    pub filename: String,
}

/// An account as stored.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub password_hash: Option<String>,
    pub acked_event: EventId,
    pub role: Role,
    /// Banned: no login, no session.
    pub banned: bool,
}

/// A user acting on a room: their key and display name.
#[derive(Debug, Clone)]
pub struct Member {
    pub key: UserKey,
    pub name: String,
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub chat: Chat,
    pub sender: String,
    /// Sent by a guest: stored under a sender key no account can have (`~name`), so an
    /// account that takes the name later cannot edit or delete the guest's words.
    pub guest: bool,
    pub client_message_id: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// The message of the same chat this one answers (checked by the store).
    pub reply_to: Option<MessageId>,
    /// The members it mentions and whether it mentions the room (checked by the hub).
    pub mentions: Vec<String>,
    pub mentions_room: bool,
    pub at: Millis,
}

impl NewMessage {
    /// The key its sender is stored under: an account's, or for a guest one no
    /// username can have (`~name`), so that no account is the author of a guest's words.
    pub fn sender_key(&self) -> String {
        let key = crate::domain::UserKey::of(&self.sender);
        if self.guest {
            format!("~{}", key.as_str())
        } else {
            key.as_str().to_owned()
        }
    }
}

/// A change to a message's text (and optionally its attachments), by its author.
#[derive(Debug, Clone)]
pub struct Edit {
    pub chat: Chat,
    pub editor: UserKey,
    pub message_id: MessageId,
    pub text: String,
    /// `None` keeps the attachments.
    pub attachments: Option<Vec<Attachment>>,
    pub at: Millis,
}

/// A message's deletion, by its author or a moderator.
#[derive(Debug, Clone)]
pub struct Delete {
    pub chat: Chat,
    pub actor: UserKey,
    /// The actor moderates this chat (an admin, the room's manager): any message may
    /// go, and the log names them (display form).
    pub moderator: Option<String>,
    pub message_id: MessageId,
    pub at: Millis,
}

/// A `dlvrd`/`read` mark up to `upto` (default: the latest message).
#[derive(Debug, Clone)]
pub struct Mark {
    pub chat: Chat,
    pub reader: String,
    pub kind: ReceiptKind,
    pub upto: Option<MessageId>,
    pub at: Millis,
}

/// A room to create, with its creator as first member.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub name: String,
    pub creator: Member,
    /// The creator is a guest: its membership is not stored (the hub keeps it while
    /// the guest is connected), and the room remembers that a guest made it.
    pub creator_guest: bool,
    /// Listed to its members only, joined by being added.
    pub private: bool,
    pub at: Millis,
}

/// The result of a `dlvrd` / `read` mark.
#[derive(Debug, Clone)]
pub struct ReceiptOutcome {
    /// The watermark asked for (0 when the chat has no message).
    pub upto: MessageId,
    pub client_message_id: Option<String>,
    /// When `upto` was first marked.
    pub at: Millis,
    /// The reader's unread count in this chat afterwards.
    pub unread: u64,
}

/// A message with its receipt times (first delivery / read by someone else).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub message: Message,
    pub delivered: Option<Millis>,
    pub read: Option<Millis>,
    /// Each emoji on the message and who put it there.
    pub reactions: Vec<app::protocol::Reaction>,
}

/// A user's place in one chat.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatState {
    pub chat: Chat,
    pub read_upto: MessageId,
    pub unread: u64,
}

/// A user's chats with their unread counts as of log position `at`: every event up to
/// `at` is counted, none after it.
#[derive(Debug, Clone)]
pub struct UnreadSnapshot {
    pub at: EventId,
    pub chats: Vec<ChatState>,
}

/// What a resume will send: `missed` events, the last being `last`; `head` is the
/// log's latest id when the plan was made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayPlan {
    pub missed: u64,
    pub last: EventId,
    pub head: EventId,
}

/// Rooms, their creators and members, and all accounts: what the hub loads at start.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub rooms: Vec<RoomRow>,
    /// Every account with its role and profile.
    pub users: Vec<UserRow>,
    /// Who blocked whom: (blocker, blocked).
    pub blocks: Vec<(UserKey, UserKey)>,
    /// The registration mode the owner last chose (none: never changed).
    pub registration: Option<Registration>,
}

#[derive(Debug, Clone)]
pub struct RoomRow {
    pub id: RoomId,
    pub name: String,
    pub creator: Option<String>,
    /// The creator was a guest.
    pub creator_guest: bool,
    pub members: Vec<UserKey>,
    pub settings: RoomState,
}
