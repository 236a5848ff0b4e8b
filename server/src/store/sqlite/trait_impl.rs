//! [`Store`] for SQLite: each typed operation is one job of the group-commit writer
//! (writes) or one read on the reader pool, running the functions of `ops` and `reads`.

use super::{ops, reads, Applied, SqliteStore};
use crate::domain::{Chat, LogEvent, RoomId, SessionId, UserKey};
use crate::store::{
    Account, Delete, Edit, EventSink, Mark, Member, NewMessage, NewRoom, ReceiptOutcome,
    ReplayPlan, Store, StoreError, StoreFuture, StoredMessage, UnreadSnapshot, World,
};
use app::protocol::{EventId, MessageId, Millis};
use std::sync::Arc;

impl SqliteStore {
    /// A write job as a store answer.
    fn job<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move { store.write(f).await })
    }

    /// A read as a store answer.
    fn query<T, F>(&self, f: F) -> StoreFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move { store.read(f).await })
    }
}

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

    fn expire_tokens(&self, before: Millis) -> StoreFuture<usize> {
        self.job(move |c| ops::expire_tokens(c, before))
    }

    fn account(&self, user: UserKey) -> StoreFuture<Option<Account>> {
        self.query(move |c| ops::load_account(c, &user))
    }

    fn register(
        &self,
        name: String,
        password_hash: Option<String>,
        at: Millis,
    ) -> StoreFuture<(Account, bool)> {
        self.job(move |c| ops::register(c, &name, password_hash, at))
    }

    fn claim_guest(&self, user: UserKey, password_hash: String) -> StoreFuture<bool> {
        self.job(move |c| ops::claim_guest(c, &user, &password_hash))
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

    fn token_user(&self, hash: String) -> StoreFuture<Option<UserKey>> {
        self.query(move |c| reads::token_user(c, &hash))
    }

    fn post(&self, msg: NewMessage, origin: Option<SessionId>) -> StoreFuture<(MessageId, bool)> {
        self.job(move |c| ops::new_message(c, msg, origin))
    }

    fn edit(&self, edit: Edit, origin: Option<SessionId>) -> StoreFuture<()> {
        self.job(move |c| ops::edit_message(c, edit, origin))
    }

    fn delete(&self, delete: Delete, origin: Option<SessionId>) -> StoreFuture<()> {
        self.job(move |c| ops::delete_message(c, delete, origin))
    }

    fn mark(&self, mark: Mark, origin: Option<SessionId>) -> StoreFuture<ReceiptOutcome> {
        self.job(move |c| ops::mark(c, mark, origin))
    }

    fn create_room(&self, room: NewRoom, origin: Option<SessionId>) -> StoreFuture<RoomId> {
        self.job(move |c| ops::create_room(c, room, origin))
    }

    fn join_room(
        &self,
        room: RoomId,
        member: Member,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<bool> {
        self.job(move |c| ops::join_room(c, room, &member, at, origin))
    }

    fn leave_room(
        &self,
        room: RoomId,
        member: Member,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()> {
        self.job(move |c| ops::leave_room(c, room, &member, at, origin))
    }

    fn clear_room(
        &self,
        room: RoomId,
        actor: String,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()> {
        self.job(move |c| ops::clear_room(c, room, &actor, at, origin))
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
}
