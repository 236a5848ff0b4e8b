//! Parlor's shared crate.
//!
//! [`protocol`] holds every native wire type; it has no dependency on Leptos so that the
//! server, the load generator and test clients can use it. The Leptos web app lives in
//! `ui`, compiled only with the `ui` feature (enabled by the `frontend` crate alone).

pub mod protocol;
