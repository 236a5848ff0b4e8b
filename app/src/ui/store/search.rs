//! Message search: one `search` request and its answer (the view keeps the results;
//! opening one goes through `show_message`).

use super::{warn_failed, ChatStore};
use crate::protocol::{MessageId, RequestBody, SearchRequest, SearchResults};

impl ChatStore {
    /// Searches the chats this user can read for `query`; `before_id` asks for the page
    /// after the hit of that id. `on_done` gets the hits, or what to tell the user.
    pub fn search(
        &self,
        query: String,
        before_id: Option<MessageId>,
        on_done: impl FnOnce(Result<SearchResults, String>) + 'static,
    ) {
        self.request::<SearchResults>(
            RequestBody::Search(SearchRequest {
                query,
                before_id,
                limit: None,
            }),
            move |answer| {
                on_done(answer.map_err(|e| {
                    warn_failed("search", &e);
                    e.message
                }))
            },
        );
    }
}
