//! [`Store`] for [`PgStore`]: each typed operation is one job of the group-commit
//! writer (writes) or one read on the reader pool, running the functions of `writer`,
//! `ops`, `reads` and the files of each feature, as the SQLite store does.

use super::db::Db;
use super::{access, accounts, marks, ops, people, push, reads, rooms, search, storage, writer};
use super::{Applied, PgStore};
use crate::domain::{Chat, LogEvent, RoomId, SessionId, UserKey};
use crate::store::{
    Account, Delete, Edit, EventSink, Mark, Member, NewAccount, NewInvite, NewMessage, NewRoom,
    NewUpload, PinChange, ProfileChange, React, ReceiptOutcome, ReplayPlan, RoomChange, RoomState,
    SearchPage, SearchQuery, Store, StoreError, StoreFuture, StoredMessage, StoredPin,
    StoredProfile, UnreadSnapshot, World,
};
use app::protocol::{BanInfo, EventId, InviteInfo, MessageId, Millis, Registration, Role};
use std::sync::Arc;

impl PgStore {
    /// A write job as a store answer.
    fn job<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move { store.write(f).await })
    }

    /// A write job that may release uploads: the sweeper is woken after it commits.
    fn releasing_job<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move {
            let value = store.write(f).await?;
            store.inner.released.notify_one();
            Ok(value)
        })
    }

    /// A read as a store answer.
    fn query<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move { store.read(f).await })
    }
}

impl Store for PgStore {
    fn set_sink(&self, sink: Arc<dyn EventSink>) {
        let _ = self.inner.sink.set(sink);
    }

    fn cluster(&self) -> Option<String> {
        Some(self.inner.cluster.clone())
    }

    /// A `NOTIFY` on a pooled connection, off the caller's path, one after the other in
    /// the order told; a failure is logged (the store holds every change, so another
    /// node sees it at its next start, and its sessions end at their next login, their
    /// tokens being gone from the database).
    fn tell_nodes(&self, notice: crate::store::Notice) {
        let sent = super::follow::Sent {
            node: self.inner.node.clone(),
            notice,
        };
        let payload = match serde_json::to_string(&sent) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a notice to the other nodes");
                return;
            }
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let queue = self.inner.notices.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            // Not a strong hold: the store may go while its queue waits.
            let inner = Arc::downgrade(&self.inner);
            rt.spawn(async move {
                while let Some(payload) = rx.recv().await {
                    let Some(inner) = inner.upgrade() else { break };
                    let store = PgStore { inner };
                    let told = store
                        .read(move |c| {
                            c.execute(
                                "SELECT pg_notify($1, $2)",
                                &[&super::follow::NOTICES, &payload],
                            )?;
                            Ok(())
                        })
                        .await;
                    if let Err(e) = told {
                        tracing::error!(error = %e, "cannot tell the other nodes of a change");
                    }
                }
            });
            tx
        });
        if queue.send(payload).is_err() {
            tracing::error!("cannot tell the other nodes of a change: the store is closed");
        }
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

    fn deleted_messages(
        &self,
        mode: Option<app::protocol::DeletedMessages>,
    ) -> StoreFuture<app::protocol::DeletedMessages> {
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

    fn post(&self, msg: NewMessage, origin: Option<SessionId>) -> StoreFuture<(MessageId, bool)> {
        self.job(move |c| writer::new_message(c, msg, origin))
    }

    fn edit(&self, edit: Edit, origin: Option<SessionId>) -> StoreFuture<()> {
        self.releasing_job(move |c| writer::edit_message(c, edit, origin))
    }

    fn delete(&self, delete: Delete, origin: Option<SessionId>) -> StoreFuture<()> {
        self.releasing_job(move |c| writer::delete_message(c, delete, origin))
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
        let at = crate::domain::now_ms();
        self.releasing_job(move |c| rooms::expire(c, room, before, limit, at))
    }

    fn set_profile(
        &self,
        user: UserKey,
        change: ProfileChange,
        max_avatar: u64,
    ) -> StoreFuture<StoredProfile> {
        self.releasing_job(move |c| people::set_profile(c, &user, change, max_avatar))
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
        self.query(storage::report)
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
        self.releasing_job(move |c| ops::clear_room(c, room, &actor, at, origin))
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

    /// On a reader connection, committed at once: a file of megabytes must not hold
    /// up the writer's batch (and the sequencer row) while it travels.
    fn put_upload(&self, name: String, bytes: bytes::Bytes) -> StoreFuture<()> {
        self.query(move |c| {
            c.execute(
                "INSERT INTO upload_files (name, content) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET content = EXCLUDED.content",
                &[&name, &bytes.as_ref()],
            )?;
            Ok(())
        })
    }

    fn upload_bytes(&self, name: String) -> StoreFuture<Option<Vec<u8>>> {
        self.query(move |c| {
            let row = c.opt("SELECT content FROM upload_files WHERE name = $1", &[&name])?;
            Ok(match row {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            })
        })
    }

    fn remove_upload(&self, name: String) -> StoreFuture<()> {
        self.query(move |c| {
            c.execute("DELETE FROM upload_files WHERE name = $1", &[&name])?;
            Ok(())
        })
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
