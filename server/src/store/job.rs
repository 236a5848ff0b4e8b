//! A write job of a group-commit writer, whichever database it writes: what the job
//! produced ([`Applied`]), and how its caller is answered once its batch is committed
//! or rolled back ([`JobOutcome`]). Both stores' writers run jobs this way, so that an
//! operation reads the same in either.

use super::StoreError;
use crate::domain::{LogEvent, SessionId};
use tokio::sync::oneshot;

/// What a write job produced: its answer, the events it appended, and who asked.
pub struct Applied<T> {
    pub value: T,
    pub events: Vec<LogEvent>,
    pub origin: Option<SessionId>,
}

impl<T> Applied<T> {
    pub fn quiet(value: T) -> Applied<T> {
        Applied {
            value,
            events: Vec::new(),
            origin: None,
        }
    }
}

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A job after it ran in the writer: `finish` answers its caller once the batch's
/// fate is known (a failed job is rolled back to its savepoint and answered at once).
pub struct JobOutcome {
    pub ok: bool,
    pub events: Vec<LogEvent>,
    pub origin: Option<SessionId>,
    pub finish: Finish,
}

impl JobOutcome {
    /// The outcome of a job that answered `result`; its caller waits on `tx`.
    pub fn of<T: Send + 'static>(
        result: Result<Applied<T>, StoreError>,
        tx: oneshot::Sender<Result<T, StoreError>>,
    ) -> JobOutcome {
        match result {
            Ok(applied) => {
                let value = applied.value;
                JobOutcome {
                    ok: true,
                    events: applied.events,
                    origin: applied.origin,
                    finish: Box::new(move |result| {
                        let _ = tx.send(result.map(|()| value));
                    }),
                }
            }
            Err(e) => JobOutcome {
                ok: false,
                events: Vec::new(),
                origin: None,
                finish: Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            },
        }
    }
}
