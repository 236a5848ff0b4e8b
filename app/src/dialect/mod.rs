//! Wire types of the three seed dialects Parlor also speaks, each on its own path:
//! [`rwci`] (`/ws/rwci`, seed 004), [`workspace`] (`/ws/workspace`, seed 002) and
//! [`workshop`] (`/ws/workshop`, seed 000). Like [`crate::protocol`], they are shared
//! by the server, the load generator and test clients.

pub mod rwci;
pub mod workshop;
pub mod workspace;

#[cfg(test)]
mod tests;
