//! Parlor's shared crate.
//!
//! [`protocol`] holds every native wire type and [`dialect`] those of the seed
//! dialects; it has no dependency on Leptos so that the
//! server, the load generator and test clients can use it. [`timeline`] is the client's
//! view of a chat's messages (merging pages, live events and unsent messages, grouping
//! by sender and day); [`reply`], [`session`], [`chats`], [`outbox`], [`receipts`],
//! [`presence`], [`search`], [`reactions`], [`text`], [`case`], [`markdown`] and [`backoff`] are the web app's other pure logic. All of it
//! is free of browser code so that it is tested natively. The Leptos web app lives in
//! `ui`, compiled only with the `ui` feature (enabled by the `frontend` crate alone).

pub mod backoff;
pub mod case;
pub mod chats;
pub mod dialect;
pub mod files;
pub mod markdown;
pub mod mentions;
pub mod outbox;
pub mod presence;
pub mod protocol;
pub mod reactions;
pub mod reading;
pub mod receipts;
pub mod reply;
pub mod search;
pub mod seek;
pub mod session;
pub mod text;
pub mod timeline;

#[cfg(test)]
mod seeds;

#[cfg(feature = "ui")]
pub mod ui;
