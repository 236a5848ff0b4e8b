//! [`Store`] for SQLite: each typed operation is one job of the group-commit writer
//! (writes) or one read on the reader pool, running the functions of `ops` and `reads`.

use super::{ops, reads, SqliteStore};
use crate::domain::{Chat, LogEvent, RoomId, SessionId, UserKey};
use crate::store::{
    Account, Delete, Edit, EventSink, Mark, Member, NewMessage, NewRoom, ReceiptOutcome,
    ReplayPlan, Store, StoreFuture, StoredMessage, UnreadSnapshot, World,
};
use app::protocol::{EventId, MessageId, Millis};
use std::sync::Arc;

impl Store for SqliteStore {
    fn set_sink(&self, sink: Arc<dyn EventSink>) {
        let _ = self.inner.sink.set(sink);
    }

    fn close(&self) {
        self.shut();
    }

    fn load_world(&self) -> StoreFuture<World> {
        let store = self.clone();
        Box::pin(async move { store.read(reads::load_world).await })
    }

    fn expire_tokens(&self, before: Millis) -> StoreFuture<usize> {
        let store = self.clone();
        Box::pin(async move { store.write(move |c| ops::expire_tokens(c, before)).await })
    }

    fn account(&self, user: UserKey) -> StoreFuture<Option<Account>> {
        let store = self.clone();
        Box::pin(async move { store.read(move |c| ops::load_account(c, &user)).await })
    }

    fn register(
        &self,
        name: String,
        password_hash: Option<String>,
        at: Millis,
    ) -> StoreFuture<(Account, bool)> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::register(c, &name, password_hash, at))
                .await
        })
    }

    fn claim_guest(&self, user: UserKey, password_hash: String) -> StoreFuture<bool> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::claim_guest(c, &user, &password_hash))
                .await
        })
    }

    fn set_acked(&self, user: UserKey, event: EventId) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move { store.write(move |c| ops::set_acked(c, &user, event)).await })
    }

    fn issue_token(&self, user: UserKey, hash: String, at: Millis) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::issue_token(c, &user, &hash, at))
                .await
        })
    }

    fn touch_token(&self, hash: String, at: Millis) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move { store.write(move |c| ops::touch_token(c, &hash, at)).await })
    }

    fn revoke_token(&self, hash: String) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move { store.write(move |c| ops::revoke_token(c, &hash)).await })
    }

    fn token_user(&self, hash: String) -> StoreFuture<Option<UserKey>> {
        let store = self.clone();
        Box::pin(async move { store.read(move |c| reads::token_user(c, &hash)).await })
    }

    fn post(&self, msg: NewMessage, origin: Option<SessionId>) -> StoreFuture<(MessageId, bool)> {
        let store = self.clone();
        Box::pin(async move { store.write(move |c| ops::new_message(c, msg, origin)).await })
    }

    fn edit(&self, edit: Edit, origin: Option<SessionId>) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::edit_message(c, edit, origin))
                .await
        })
    }

    fn delete(&self, delete: Delete, origin: Option<SessionId>) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::delete_message(c, delete, origin))
                .await
        })
    }

    fn mark(&self, mark: Mark, origin: Option<SessionId>) -> StoreFuture<ReceiptOutcome> {
        let store = self.clone();
        Box::pin(async move { store.write(move |c| ops::mark(c, mark, origin)).await })
    }

    fn create_room(&self, room: NewRoom, origin: Option<SessionId>) -> StoreFuture<RoomId> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::create_room(c, room, origin))
                .await
        })
    }

    fn join_room(
        &self,
        room: RoomId,
        member: Member,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<bool> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::join_room(c, room, &member, at, origin))
                .await
        })
    }

    fn leave_room(
        &self,
        room: RoomId,
        member: Member,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::leave_room(c, room, &member, at, origin))
                .await
        })
    }

    fn clear_room(
        &self,
        room: RoomId,
        actor: String,
        at: Millis,
        origin: Option<SessionId>,
    ) -> StoreFuture<()> {
        let store = self.clone();
        Box::pin(async move {
            store
                .write(move |c| ops::clear_room(c, room, &actor, at, origin))
                .await
        })
    }

    fn messages(
        &self,
        chat: Chat,
        end: Option<MessageId>,
        count: u32,
    ) -> StoreFuture<Vec<StoredMessage>> {
        let store = self.clone();
        Box::pin(async move {
            store
                .read(move |c| reads::messages_page(c, &chat, end, count))
                .await
        })
    }

    fn last_message_id(&self, chat: Chat) -> StoreFuture<MessageId> {
        let store = self.clone();
        Box::pin(async move { store.read(move |c| reads::last_message_id(c, &chat)).await })
    }

    fn chat_last_ids(&self, user: UserKey) -> StoreFuture<Vec<(Chat, MessageId)>> {
        let store = self.clone();
        Box::pin(async move { store.read(move |c| reads::chat_last_ids(c, &user)).await })
    }

    fn unread_snapshot(&self, user: UserKey) -> StoreFuture<UnreadSnapshot> {
        let store = self.clone();
        Box::pin(async move { store.read(move |c| reads::unread_snapshot(c, &user)).await })
    }

    fn unread_between(
        &self,
        chat: Chat,
        user: UserKey,
        after: MessageId,
        before: MessageId,
    ) -> StoreFuture<u64> {
        let store = self.clone();
        Box::pin(async move {
            store
                .read(move |c| reads::unread_between(c, &chat.key(), &user, after, before))
                .await
        })
    }

    fn receipt_marks(&self, chat: Chat) -> StoreFuture<Vec<(UserKey, MessageId, MessageId)>> {
        let store = self.clone();
        Box::pin(async move { store.read(move |c| reads::receipt_marks(c, &chat)).await })
    }

    fn replay_plan(&self, user: UserKey, after: EventId) -> StoreFuture<ReplayPlan> {
        let store = self.clone();
        Box::pin(async move {
            store
                .read(move |c| {
                    let head = reads::head(c)?;
                    let (missed, last) = reads::replay_count(c, &user, after, head)?;
                    Ok(ReplayPlan { missed, last, head })
                })
                .await
        })
    }

    fn replay_page(
        &self,
        user: UserKey,
        after: EventId,
        upto: EventId,
        limit: u32,
    ) -> StoreFuture<Vec<LogEvent>> {
        let store = self.clone();
        Box::pin(async move {
            store
                .read(move |c| reads::replay_page(c, &user, after, upto, limit))
                .await
        })
    }
}
