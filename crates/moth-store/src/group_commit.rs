//! Group commit: writes that arrive together share one transaction.
//!
//! A write transaction costs a lock hand-over, `begin` and `commit` (and on PostgreSQL a wait
//! for the disk) whatever it holds, and one project's issues are numbered one transaction at a
//! time. So callers queue their item; whoever takes the leader's turn writes everything queued
//! so far in one go and answers each caller. Alone, a caller simply writes its own item.

use crate::error::{StoreError, StoreResult};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The most items one transaction takes; the rest wait for the next turn.
const MOST_PER_BATCH: usize = 64;

/// A queue of items of type `T` written in batches, each answered with a `StoreResult<R>`.
pub(crate) struct GroupCommit<T, R> {
    pending: Mutex<Vec<Waiting<T, R>>>,
    /// Held while a batch is written; its queue of waiters is fair (first come, first served).
    turn: Arc<tokio::sync::Mutex<()>>,
}

type Waiting<T, R> = (T, oneshot::Sender<StoreResult<R>>);

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    pub(crate) fn new() -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Queues `item` and returns its result once some batch has written it.
    ///
    /// `write` gets a batch and returns one result per item, in order. It runs in a task of its
    /// own on the writer's thread, so a caller that goes away (a closed connection) never
    /// cancels a batch half-way.
    pub(crate) async fn submit<W, F>(&self, item: T, write: W) -> StoreResult<R>
    where
        W: FnOnce(Vec<T>) -> F,
        F: Future<Output = Vec<StoreResult<R>>> + Send + 'static,
    {
        let (answer, mut result) = oneshot::channel();
        self.lock_pending().push((item, answer));
        let turn = tokio::select! {
            biased;
            written = &mut result => return written.unwrap_or_else(|_| Err(lost())),
            turn = self.turn.clone().lock_owned() => turn,
        };
        let batch = self.take_batch();
        if !batch.is_empty() {
            let (items, answers): (Vec<T>, Vec<_>) = batch.into_iter().unzip();
            let writing = write(items);
            writer_runtime().spawn(async move {
                let results = writing.await;
                drop(turn);
                for (answer, written) in answers.into_iter().zip(results) {
                    // A caller that has gone away no longer wants its answer.
                    let _ = answer.send(written);
                }
            });
        }
        result.await.unwrap_or_else(|_| Err(lost()))
    }

    fn take_batch(&self) -> Vec<Waiting<T, R>> {
        let mut pending = self.lock_pending();
        let taken = pending.len().min(MOST_PER_BATCH);
        let rest = pending.split_off(taken);
        std::mem::replace(&mut *pending, rest)
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Waiting<T, R>>> {
        // The queue is only pushed to and split, so a panic elsewhere cannot leave it torn.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The runtime batches are written on: one thread of its own. A batch is a chain of statements,
/// each a round trip to the database (through sqlx's SQLite worker thread, or a socket), and
/// each answer wakes the batch to send the next. On the server's runtime that wake-up waited
/// behind whatever requests its few workers were busy with (reading, parsing and answering
/// reports); here the thread does nothing else, so the next statement goes at once. SQLite has
/// one writer anyway, and on PostgreSQL the batch's time is spent waiting for the database, not
/// on this thread. (Intake on 2 cores: about 410 reports/s before, 450 to 560 after.)
fn writer_runtime() -> &'static tokio::runtime::Handle {
    static HANDLE: std::sync::LazyLock<tokio::runtime::Handle> = std::sync::LazyLock::new(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the writer");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("moth-writer".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the writer's thread");
        handle
    });
    &HANDLE
}

impl<T, R> std::fmt::Debug for GroupCommit<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

/// The task writing the batch panicked before answering.
fn lost() -> StoreError {
    StoreError::Database(sqlx::Error::WorkerCrashed)
}
