//! Password hashing (Argon2id with the crate's defaults: 19 MiB, 2 passes) on a small
//! pool of dedicated threads, behind a bounded waiting line.
//!
//! Each hash needs 19 MiB. Run on the blocking pool, a burst of logins would hash on
//! dozens of threads at once and the allocator would keep every one of those buffers:
//! hundreds of MB on a Raspberry Pi. Two hashing threads bound both the memory and the
//! CPU a login storm can take. Logins wait their turn in a line of bounded length
//! (`--hash-queue`); when it is full the login is refused at once (`rate_limited`,
//! "server busy") instead of waiting behind every other. A login whose client has gone
//! (its future dropped) leaves the line, and a job is checked once more just before it
//! hashes, so a burst of logins from clients that disconnect at once costs nothing
//! but their place in the line.

use crate::domain::Refusal;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, Semaphore};

/// Hashing threads (each hash holds 19 MiB while it runs).
pub const THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads and their waiting line.
pub struct Hasher {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// One permit per hashing thread: a job is handed over only when a thread is free.
    running: Arc<Semaphore>,
    /// Places in the line, running jobs included.
    line: Arc<Semaphore>,
}

impl Hasher {
    /// Starts the threads; `waiting` logins may wait for one beyond those hashing.
    pub fn new(waiting: usize) -> Hasher {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("parlor-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a password hashing thread"),
            }
        }
        Hasher {
            jobs: Mutex::new(tx),
            running: Arc::new(Semaphore::new(started)),
            line: Arc::new(Semaphore::new(started + waiting)),
        }
    }

    /// Runs `f` on a hashing thread once one is free, unless the line is full. Dropping
    /// the future before then means `f` never runs.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let place = self.line.clone().try_acquire_owned().map_err(|_| {
            Refusal::RateLimited("the server is busy with other logins; try again shortly".into())
        })?;
        let turn = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Refusal::Internal("password hashing is unavailable".into()))?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _held = (place, turn);
            // The client left between taking its turn and this thread starting.
            if tx.is_closed() {
                return;
            }
            let _ = tx.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| Refusal::Internal("password hashing is unavailable".into()))?
            .send(job)
            .map_err(|_| Refusal::Internal("password hashing is unavailable".into()))?;
        rx.await
            .map_err(|_| Refusal::Internal("password hashing failed".into()))
    }

    /// A new Argon2id hash (PHC string) of `password` with a random salt.
    pub async fn hash(&self, password: String) -> Result<String, Refusal> {
        self.run(move || {
            let salt = SaltString::generate(&mut rand_core::OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Refusal::Internal(format!("cannot hash the password: {e}")))
        })
        .await?
    }

    /// Whether `password` matches the stored `hash`.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, Refusal> {
        self.run(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_line_refuses_and_a_dropped_job_never_runs() {
        let hasher = Arc::new(Hasher::new(1));
        let ran = Arc::new(AtomicUsize::new(0));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        // Occupy both threads until released.
        let mut busy = Vec::new();
        for _ in 0..THREADS {
            let (h, gate, ran) = (hasher.clone(), gate.clone(), ran.clone());
            busy.push(tokio::spawn(async move {
                h.run(move || {
                    let _ = gate.lock().map(|g| g.recv());
                    ran.fetch_add(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // One waits in the line; the next is refused at once.
        let waiting = {
            let (h, ran) = (hasher.clone(), ran.clone());
            tokio::spawn(async move {
                h.run(move || {
                    ran.fetch_add(100, Ordering::SeqCst);
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refused = hasher.run(|| ()).await;
        assert!(
            matches!(refused, Err(Refusal::RateLimited(_))),
            "{refused:?}"
        );
        // The waiting client goes away: its job must not run.
        waiting.abort();
        let _ = waiting.await;
        for _ in 0..THREADS {
            release.send(()).expect("release");
        }
        for b in busy {
            b.await.expect("join").expect("ran");
        }
        assert_eq!(ran.load(Ordering::SeqCst), THREADS);
        // And the line is free again.
        assert!(hasher.run(|| ()).await.is_ok());
    }
}
