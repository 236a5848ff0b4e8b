//! Password hashing (Argon2id with the crate's defaults: 19 MiB, 2 passes) on a small
//! pool of dedicated threads.
//!
//! Each hash needs 19 MiB. Run on the blocking pool, a burst of logins would hash on
//! dozens of threads at once and the allocator would keep every one of those buffers:
//! hundreds of MB on a Raspberry Pi. Two hashing threads bound both the memory and the
//! CPU a login storm can take; logins queue instead.

use crate::domain::Refusal;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use tokio::sync::oneshot;

const THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

fn pool() -> &'static Mutex<mpsc::Sender<Job>> {
    static POOL: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
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
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Mutex::new(tx)
    })
}

async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    pool().lock().ok()?.send(job).ok()?;
    rx.await.ok()
}

/// A new Argon2id hash (PHC string) of `password` with a random salt.
pub async fn hash(password: String) -> Result<String, Refusal> {
    run(move || {
        let salt = SaltString::generate(&mut rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Refusal::Internal(format!("cannot hash the password: {e}")))
    })
    .await
    .unwrap_or_else(|| Err(Refusal::Internal("cannot hash the password".into())))
}

/// Whether `password` matches the stored `hash`.
pub async fn verify(password: String, hash: String) -> bool {
    run(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
