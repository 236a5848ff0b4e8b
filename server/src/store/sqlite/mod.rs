//! The embedded store: one SQLite database in WAL mode under `--data`, holding accounts,
//! rooms, messages, receipts and the append-only event log. This file is the store as
//! the hub sees it: [`SqliteStore`], how it opens, and [`Store`] for it, where each
//! typed operation (`post` for a chat message) becomes a job of the group-commit writer
//! (`writer`, which also holds the message writes) or a read on the reader pool.
//!
//! The WAL is checkpointed by a thread of its own, never by a commit: a checkpoint
//! copies pages into the database file and syncs it, and on the writer it made the
//! whole room wait every so often. A writer thread that dies (a panic) ends the
//! process with a non-zero status, so that a supervisor restarts it: a server that
//! accepts connections but can never write again is worse than a restart.
//!
//! Reads run on a small pool of read-only connections on the blocking thread pool.

mod access;
mod accounts;
mod connection;
mod files;
mod marks;
mod ops;
mod people;
mod push;
mod reads;
mod replies;
mod rooms;
mod schema;
mod search;
pub mod snapshot;
mod storage;
mod writer;

pub use ops::*;
pub use reads::*;
pub use writer::{delete_message, edit_message, mark, new_message, Applied};

use super::{
    Account, Delete, Edit, EventSink, Mark, Member, NewAccount, NewInvite, NewMessage, NewRoom,
    NewUpload, PinChange, ProfileChange, React, ReceiptOutcome, ReplayPlan, RoomChange, RoomState,
    SearchPage, SearchQuery, Store, StoreError, StoreFuture, StoredMessage, StoredPin,
    StoredProfile, UnreadSnapshot, World,
};
use crate::domain::{Chat, LogEvent, RoomId, SessionId, UserKey};
use app::protocol::{BanInfo, EventId, InviteInfo, MessageId, Millis, Registration, Role};
use connection::{
    checkpoint_loop, erase_leftovers, open_conn, ERASING_CHECKPOINT_WAIT, WRITER_STATEMENTS,
};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use tokio::sync::mpsc;
use writer::JobFn;

/// The database file's name inside `--data`.
pub const DB_FILE: &str = "parlor.db";

/// Reads running at once, each on a pooled read-only connection: a burst of reads (a
/// reconnect storm) waits for a connection instead of opening hundreds of them on as
/// many blocking threads.
const READERS: usize = 8;
/// Searches running at once (each on a reader): however many people search, the
/// other readers stay free for history pages and replays.
const SEARCHERS: usize = 2;
/// What happens when the writer thread dies: by default the process exits with
/// status 70 (EX_SOFTWARE), so that systemd restarts it.
pub type OnWriterDeath = Arc<dyn Fn() + Send + Sync>;

/// Handle to the SQLite store; cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::UnboundedSender<JobFn>>>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per read running ([`READERS`]).
    read_slots: tokio::sync::Semaphore,
    /// One permit per search running ([`SEARCHERS`]).
    search_slots: tokio::sync::Semaphore,
    sink: OnceLock<Arc<dyn EventSink>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Set (and signalled) when the store closes: the checkpointer stops.
    closing: (Mutex<bool>, Condvar),
    /// Something was erased (a delete, a cleared room) since the last checkpoint: the
    /// next one empties the WAL, whose older frames still hold the erased text.
    erased: AtomicBool,
    /// Notified after a commit that may have released uploads (the sweeper waits).
    released: Arc<tokio::sync::Notify>,
    stats: Stats,
}

/// Counters of the writer, for tests and benchmarks.
#[derive(Default)]
pub struct Stats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Jobs that ran (committed or refused).
    pub jobs: AtomicU64,
    /// WAL checkpoints run (off the writer).
    pub checkpoints: AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database under `data_dir` and migrates it. Should
    /// the writer thread die, the process exits.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(
            data_dir,
            Arc::new(|| {
                tracing::error!("the store's writer died; exiting so that Parlor is restarted");
                std::process::exit(70);
            }),
        )
    }

    /// [`SqliteStore::open`], with what to do when the writer thread dies.
    pub fn open_with(data_dir: &Path, on_death: OnWriterDeath) -> Result<SqliteStore, StoreError> {
        let data_error = |source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        };
        crate::private::dir(data_dir).map_err(data_error)?;
        let path = data_dir.join(DB_FILE);
        // Made owner-only before SQLite opens it; SQLite gives the WAL and shared-memory
        // files the database's mode.
        crate::private::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(data_error)?;
        let probe = data_dir.join(".parlor-write-test");
        std::fs::write(&probe, b"ok")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(data_error)?;
        let mut conn = open_conn(&path, false)?;
        snapshot::before_migration(&conn, data_dir)?;
        let found = schema::migrate(&mut conn)?;
        ops::ensure_general(&conn)?;
        erase_leftovers(&conn, found)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = data_dir.join(format!("{DB_FILE}{suffix}"));
            crate::private::file(&file).map_err(data_error)?;
        }
        // Checkpoints run on their own thread (below), never inside a commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // The writer runs a few dozen distinct statements; keep all of them prepared.
        conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
        let checkpoint_conn = open_conn(&path, false)?;
        // Only an erasing checkpoint (TRUNCATE) waits, and it holds off the writer while
        // it does: never for long.
        checkpoint_conn.busy_timeout(ERASING_CHECKPOINT_WAIT)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let store = SqliteStore {
            inner: Arc::new(Inner {
                path,
                jobs: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(READERS),
                search_slots: tokio::sync::Semaphore::new(SEARCHERS),
                sink: OnceLock::new(),
                writer: Mutex::new(None),
                checkpointer: Mutex::new(None),
                closing: (Mutex::new(false), Condvar::new()),
                erased: AtomicBool::new(false),
                released: Arc::new(tokio::sync::Notify::new()),
                stats: Stats::default(),
            }),
        };
        let inner = Arc::clone(&store.inner);
        let writer = std::thread::Builder::new()
            .name("parlor-store-writer".into())
            .spawn(move || {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    writer::writer_loop(conn, rx, &inner)
                }));
                if ran.is_err() {
                    tracing::error!("the store's writer thread panicked");
                    on_death();
                }
            })
            .map_err(data_error)?;
        let inner = Arc::clone(&store.inner);
        let checkpointer = std::thread::Builder::new()
            .name("parlor-store-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoint_conn, &inner))
            .map_err(data_error)?;
        if let Ok(mut w) = store.inner.writer.lock() {
            *w = Some(writer);
        }
        if let Ok(mut c) = store.inner.checkpointer.lock() {
            *c = Some(checkpointer);
        }
        Ok(store)
    }

    /// Runs `f` on a read connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut r| r.pop());
            let conn = match pooled {
                Some(c) => c,
                None => open_conn(&inner.path, true)?,
            };
            let result = f(&conn);
            if let Ok(mut r) = inner.readers.lock() {
                if r.len() < READERS {
                    r.push(conn);
                }
            }
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// A write job as a store answer.
    fn job<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move { store.write(f).await })
    }

    /// A write job that erases content: once committed, the next checkpoint empties
    /// the WAL (whose older frames still hold what was erased).
    fn erasing_job<F>(&self, f: F) -> StoreFuture<()>
    where
        F: FnOnce(&Connection) -> Result<Applied<()>, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move {
            store.write(f).await?;
            store.inner.erased.store(true, Ordering::Relaxed);
            store.inner.released.notify_one();
            Ok(())
        })
    }

    /// A read as a store answer.
    fn query<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move { store.read(f).await })
    }

    /// Where the uploaded files are: `uploads/` beside the database.
    fn uploads_dir(&self) -> PathBuf {
        let data = self.inner.path.parent().unwrap_or_else(|| Path::new("."));
        data.join(crate::uploads::UPLOADS_DIR)
    }

    /// The writer's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Stops taking jobs, lets the writer commit what it has, and waits for it and for
    /// the checkpointer.
    pub fn shut(&self) {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        let (flag, wake) = &self.inner.closing;
        if let Ok(mut closing) = flag.lock() {
            *closing = true;
            wake.notify_all();
        }
        let handle = self
            .inner
            .checkpointer
            .lock()
            .ok()
            .and_then(|mut c| c.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

/// Each typed operation is one job of the group-commit writer (writes) or one read on
/// the reader pool, running the functions of `writer`, `ops` and `reads`.
impl Store for SqliteStore {
    fn set_sink(&self, sink: Arc<dyn EventSink>) {
        let _ = self.inner.sink.set(sink);
    }

    fn close(&self) {
        self.shut();
    }

    fn load_world(&self) -> StoreFuture<World> {
        self.query(reads::load_world)
    }

    fn expire_tokens(&self, before: Millis) -> StoreFuture<Vec<String>> {
        self.job(move |c| ops::expire_tokens(c, before))
    }

    fn account(&self, user: UserKey) -> StoreFuture<Option<Account>> {
        self.query(move |c| ops::load_account(c, &user))
    }

    fn register(&self, account: NewAccount) -> StoreFuture<(Account, bool)> {
        self.job(move |c| access::register(c, account))
    }

    fn set_registration(&self, mode: Registration) -> StoreFuture<()> {
        self.job(move |c| access::set_registration(c, mode))
    }

    fn create_invite(&self, invite: NewInvite) -> StoreFuture<InviteInfo> {
        self.job(move |c| access::create_invite(c, invite))
    }

    fn invites(&self, at: Millis) -> StoreFuture<Vec<InviteInfo>> {
        self.query(move |c| access::invites(c, at))
    }

    fn revoke_invite(&self, id: String) -> StoreFuture<bool> {
        self.job(move |c| access::revoke_invite(c, &id))
    }

    fn set_banned(&self, user: UserKey, ban: Option<(String, Millis)>) -> StoreFuture<bool> {
        self.job(move |c| access::set_banned(c, &user, ban))
    }

    fn bans(&self) -> StoreFuture<Vec<BanInfo>> {
        self.query(access::bans)
    }

    fn create_reset(&self, reset: crate::store::NewReset) -> StoreFuture<()> {
        self.job(move |c| accounts::create_reset(c, reset))
    }

    fn use_reset(&self, reset: crate::store::UsedReset) -> StoreFuture<bool> {
        self.job(move |c| accounts::use_reset(c, reset))
    }

    fn deleted_messages(&self, mode: Option<accounts::Mode>) -> StoreFuture<accounts::Mode> {
        self.job(move |c| accounts::deleted_messages(c, mode))
    }

    fn delete_account(&self, deletion: crate::store::AccountDeletion) -> StoreFuture<bool> {
        accounts::delete_account(self, deletion)
    }

    fn set_acked(&self, user: UserKey, event: EventId) -> StoreFuture<()> {
        self.job(move |c| ops::set_acked(c, &user, event))
    }

    fn issue_token(&self, user: UserKey, hash: String, at: Millis) -> StoreFuture<()> {
        self.job(move |c| ops::issue_token(c, &user, &hash, at))
    }

    fn touch_token(&self, hash: String, at: Millis) -> StoreFuture<()> {
        self.job(move |c| ops::touch_token(c, &hash, at))
    }

    fn revoke_token(&self, hash: String) -> StoreFuture<()> {
        self.job(move |c| ops::revoke_token(c, &hash))
    }

    fn revoke_user_tokens(&self, user: UserKey) -> StoreFuture<()> {
        self.job(move |c| ops::revoke_user_tokens(c, &user))
    }

    fn change_password(
        &self,
        user: UserKey,
        password_hash: String,
        token_hash: String,
        at: Millis,
    ) -> StoreFuture<()> {
        self.job(move |c| ops::change_password(c, &user, &password_hash, &token_hash, at))
    }

    fn token_user(&self, hash: String, valid_since: Millis) -> StoreFuture<Option<UserKey>> {
        self.query(move |c| reads::token_user(c, &hash, valid_since))
    }

    /// A chat message: a job of the writer (`writer::new_message`), answered after its
    /// group commit and the publication of its event.
    fn post(&self, msg: NewMessage, origin: Option<SessionId>) -> StoreFuture<(MessageId, bool)> {
        self.job(move |c| writer::new_message(c, msg, origin))
    }

    fn edit(&self, edit: Edit, origin: Option<SessionId>) -> StoreFuture<()> {
        if edit.attachments.is_none() {
            return self.job(move |c| writer::edit_message(c, edit, origin));
        }
        // New attachments may release the uploads of the old ones.
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| writer::edit_message(c, edit, origin))
                .await?;
            store.inner.released.notify_one();
            Ok(())
        })
    }

    fn delete(&self, delete: Delete, origin: Option<SessionId>) -> StoreFuture<()> {
        self.erasing_job(move |c| writer::delete_message(c, delete, origin))
    }

    fn mark(&self, mark: Mark, origin: Option<SessionId>) -> StoreFuture<ReceiptOutcome> {
        self.job(move |c| writer::mark(c, mark, origin))
    }

    fn create_room(&self, room: NewRoom, origin: Option<SessionId>) -> StoreFuture<RoomId> {
        self.job(move |c| ops::create_room(c, room, origin))
    }

    fn join_room(
        &self,
        room: RoomId,
        member: Member,
        by: Option<String>,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<bool> {
        self.job(move |c| ops::join_room(c, room, &member, by, at, origin))
    }

    fn leave_room(
        &self,
        room: RoomId,
        member: Member,
        by: Option<String>,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()> {
        self.job(move |c| ops::leave_room(c, room, &member, by, at, origin))
    }

    fn set_room(&self, change: RoomChange, origin: Option<SessionId>) -> StoreFuture<RoomState> {
        self.job(move |c| rooms::set_room(c, change, origin))
    }

    fn expire(&self, room: RoomId, before: Millis, limit: u32) -> StoreFuture<u32> {
        let store = self.clone();
        Box::pin(async move {
            let at = crate::domain::now_ms();
            let erased = store
                .write(move |c| rooms::expire(c, room, before, limit, at))
                .await?;
            if erased > 0 {
                store.inner.erased.store(true, Ordering::Relaxed);
                store.inner.released.notify_one();
            }
            Ok(erased)
        })
    }

    fn set_profile(
        &self,
        user: UserKey,
        change: ProfileChange,
        max_avatar: u64,
    ) -> StoreFuture<StoredProfile> {
        self.job(move |c| people::set_profile(c, &user, change, max_avatar))
    }

    fn set_blocked(
        &self,
        user: UserKey,
        other: UserKey,
        blocked: bool,
        at: Millis,
    ) -> StoreFuture<()> {
        self.job(move |c| people::set_blocked(c, &user, &other, blocked, at))
    }

    fn storage(&self) -> StoreFuture<app::protocol::StorageReport> {
        let db_file = self.inner.path.clone();
        self.query(move |c| storage::report(c, &db_file))
    }

    fn set_role(&self, user: UserKey, role: Role) -> StoreFuture<bool> {
        self.job(move |c| rooms::set_role(c, &user, role))
    }

    fn clear_room(
        &self,
        room: RoomId,
        actor: String,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()> {
        self.erasing_job(move |c| ops::clear_room(c, room, &actor, at, origin))
    }

    fn react(&self, react: React, origin: Option<SessionId>) -> StoreFuture<bool> {
        self.job(move |c| marks::react(c, react, origin))
    }

    fn pin(&self, pin: PinChange, origin: Option<SessionId>) -> StoreFuture<bool> {
        self.job(move |c| marks::pin(c, pin, origin))
    }

    fn pins(&self, chat: Chat) -> StoreFuture<Vec<StoredPin>> {
        self.query(move |c| marks::pins(c, &chat))
    }

    fn messages(
        &self,
        chat: Chat,
        end: Option<MessageId>,
        count: u32,
    ) -> StoreFuture<Vec<StoredMessage>> {
        self.query(move |c| reads::messages_page(c, &chat, end, count))
    }

    fn last_message_id(&self, chat: Chat) -> StoreFuture<MessageId> {
        self.query(move |c| reads::last_message_id(c, &chat))
    }

    fn chat_last_ids(&self, user: UserKey) -> StoreFuture<Vec<(Chat, MessageId)>> {
        self.query(move |c| reads::chat_last_ids(c, &user))
    }

    fn unread_snapshot(&self, user: UserKey) -> StoreFuture<UnreadSnapshot> {
        self.query(move |c| reads::unread_snapshot(c, &user))
    }

    fn unread_between(
        &self,
        chat: Chat,
        user: UserKey,
        after: MessageId,
        before: MessageId,
    ) -> StoreFuture<u64> {
        self.query(move |c| reads::unread_between(c, &chat.key(), &user, after, before))
    }

    fn receipt_marks(&self, chat: Chat) -> StoreFuture<Vec<(UserKey, MessageId, MessageId)>> {
        self.query(move |c| reads::receipt_marks(c, &chat))
    }

    fn replay_plan(&self, user: UserKey, after: EventId) -> StoreFuture<ReplayPlan> {
        self.query(move |c| {
            let head = reads::head(c)?;
            let (missed, last) = reads::replay_count(c, &user, after, head)?;
            Ok(ReplayPlan { missed, last, head })
        })
    }

    fn replay_page(
        &self,
        user: UserKey,
        after: EventId,
        upto: EventId,
        limit: u32,
    ) -> StoreFuture<Vec<LogEvent>> {
        self.query(move |c| reads::replay_page(c, &user, after, upto, limit))
    }

    fn upload_usage(&self, owner: UserKey) -> StoreFuture<u64> {
        self.query(move |c| reads::upload_usage(c, &owner))
    }

    fn record_upload(&self, upload: NewUpload, quota: u64) -> StoreFuture<bool> {
        self.job(move |c| ops::record_upload(c, &upload, quota))
    }

    fn take_unreferenced_uploads(&self, before: Millis) -> StoreFuture<Vec<String>> {
        self.job(move |c| ops::take_unreferenced_uploads(c, before))
    }

    fn uploads_released(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.inner.released)
    }

    fn search(&self, query: SearchQuery) -> StoreFuture<SearchPage> {
        let store = self.clone();
        Box::pin(async move {
            let _slot = store
                .inner
                .search_slots
                .acquire()
                .await
                .map_err(|_| StoreError::Closed)?;
            store.read(move |c| search::search(c, &query)).await
        })
    }

    fn upload_filename(&self, name: String) -> StoreFuture<Option<String>> {
        self.query(move |c| reads::upload_filename(c, &name))
    }

    fn put_upload(&self, name: String, bytes: bytes::Bytes) -> StoreFuture<()> {
        let dir = self.uploads_dir();
        Box::pin(async move { files::put(dir, name, bytes).await })
    }

    fn upload_bytes(&self, name: String) -> StoreFuture<Option<Vec<u8>>> {
        let dir = self.uploads_dir();
        Box::pin(async move { files::read(&dir, &name).await })
    }

    fn remove_upload(&self, name: String) -> StoreFuture<()> {
        let dir = self.uploads_dir();
        Box::pin(async move { files::remove(&dir, &name).await })
    }

    fn set_notify(
        &self,
        user: UserKey,
        chat: Chat,
        level: app::protocol::NotifyLevel,
    ) -> StoreFuture<()> {
        self.job(move |c| ops::set_notify(c, &user, &chat, level))
    }

    fn notify_levels(&self, user: UserKey) -> StoreFuture<Vec<(Chat, app::protocol::NotifyLevel)>> {
        self.query(move |c| reads::notify_levels(c, &user))
    }

    fn add_push_subscription(
        &self,
        sub: crate::store::PushSubscription,
        max: usize,
    ) -> StoreFuture<()> {
        self.job(move |c| push::add_subscription(c, &sub, max))
    }

    fn remove_push_subscription(
        &self,
        user: Option<UserKey>,
        endpoint: String,
    ) -> StoreFuture<bool> {
        self.job(move |c| push::remove_subscription(c, user.as_ref(), &endpoint))
    }

    fn push_subscriptions(
        &self,
        user: UserKey,
    ) -> StoreFuture<Vec<crate::store::PushSubscription>> {
        self.query(move |c| push::subscriptions(c, &user))
    }

    fn ntfy_topic(&self, user: UserKey) -> StoreFuture<Option<crate::store::NtfyTopicRow>> {
        self.query(move |c| push::ntfy_topic(c, &user))
    }

    fn set_ntfy_topic(&self, user: UserKey, topic: crate::store::NtfyTopicRow) -> StoreFuture<()> {
        self.job(move |c| push::set_ntfy_topic(c, &user, &topic))
    }

    fn ntfy_topic_user(&self, topic: String) -> StoreFuture<Option<UserKey>> {
        self.query(move |c| push::ntfy_topic_user(c, &topic))
    }
}

/// The schema version this build writes (a database or backup above it is refused).
pub fn schema_version() -> i64 {
    schema::CURRENT
}

#[cfg(test)]
mod tests;
