//! Giving freed memory back to the system. A burst (a thousand phones joining at
//! once, each arrival announced to everyone) leaves glibc's heaps holding the freed
//! blocks; on a Raspberry Pi that memory is better returned. Every few seconds the
//! heaps are trimmed: cheap when there is nothing to give back.

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the heaps are trimmed.
pub const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Trims the heaps every [`TRIM_EVERY`] until `shutdown`.
pub fn spawn_trimmer(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TRIM_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let _ = tokio::task::spawn_blocking(trim).await;
                }
                () = shutdown.cancelled() => break,
            }
        }
    });
}

/// Returns the free memory at the heaps' ends and in whole free pages to the system.
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds as free.
    unsafe {
        libc::malloc_trim(0);
    }
}
