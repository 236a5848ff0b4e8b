//! Retention: a room's managers may keep its messages for a number of days
//! (`setRoom` `retentionDays`); this task removes what is older, every
//! `--retention-sweep` (and shortly after start), as a deletion does: text, attachments
//! and the log's copies erased, a `delete` event to the members. The hub knows which
//! rooms keep what; the store erases in bounded batches, so a room with years of history
//! never holds the writer for long.

use crate::domain::now_ms;
use crate::hub::Hub;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Removes expired messages every `every` until `shutdown`.
pub fn spawn_sweeper(hub: Arc<Hub>, every: Duration, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => break,
            }
            match hub.expire_old(now_ms()).await {
                Ok(0) => {}
                Ok(removed) => {
                    tracing::info!(removed, "removed messages past their room's retention")
                }
                Err(e) => tracing::error!(error = %e, "cannot remove expired messages"),
            }
        }
    });
}
