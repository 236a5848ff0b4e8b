//! Parlor's server: the `parlor` binary's library.
//!
//! - [`domain`]: the words of the world (users, chats, messages, log events).
//! - [`store`]: SQLite persistence with the event log and group commit.
//! - [`hub`]: the world in memory, its rules, and the fan-out to sessions.
//! - [`driver`]: the one connection driver every WebSocket edge runs on.
//! - [`ws`]: the native protocol edge (`/ws`).
//! - [`dialect`]: the RWCI, Workspace and Workshop edges on the same hub.
//! - [`assets`]: the embedded web app.
//! - [`guard`]: Host and Origin checks on the WebSocket paths and the API.
//! - [`headers`]: security headers (the Content-Security-Policy) on every response.
//! - [`coalesce`]: connections whose writes leave together at each flush.
//! - [`uploads`]: image uploads under `--data/uploads`.
//! - [`lan`]: this machine's LAN addresses and the start-up banner; [`qr`] draws its QR code.
//! - [`memory`]: freed memory handed back to the system after bursts.
//! - [`mdns`]: the mDNS/DNS-SD announcement (`parlor.local`).
//! - [`tls`]: HTTPS/WSS with rustls, the self-signed certificate.
//! - [`admin`]: `parlor broadcast` and its loopback endpoint.
//! - [`backup`]: `parlor backup` and `parlor restore`; [`progress`] shows how far they are.
//! - [`export`]: `parlor export`, the conversations as JSON or a readable HTML page.
//! - [`app`]: the HTTP router, start-up and graceful shutdown.

pub mod admin;
pub mod admission;
pub mod app;
pub mod assets;
pub mod backup;
pub mod bus;
pub mod coalesce;
pub mod dialect;
pub mod domain;
pub mod driver;
pub mod export;
pub mod filetype;
pub mod guard;
pub mod headers;
pub mod hub;
pub mod invite;
pub mod lan;
pub mod mdns;
pub mod memory;
pub mod migrate;
pub mod private;
pub mod progress;
pub mod push;
pub mod qr;
pub mod reset;
pub mod retention;
pub mod store;
pub mod tls;
pub mod trust;
pub mod uploads;
pub mod ws;
