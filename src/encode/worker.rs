//! A writer thread for container formats: the backend decodes rows (and runs the export's
//! query) while a second core packs them into the file (SQLite inserts, Parquet encoding and
//! compression). The thread never calls PostgreSQL: it gets owned data through a bounded
//! channel (so memory stays at a few batches), runs with every signal blocked (PostgreSQL's
//! handlers belong to the backend's own thread), and is joined on finish, on error and when
//! an error or a cancel unwinds the backend (it then stops after the message in hand). A
//! FATAL exit does not unwind: the process ends with the thread, and the temporary file is
//! left for clean_files().

use crate::error::{GnError, GnResult};
use pgrx::PgSqlErrorCode as Code;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Worker<M: Send + 'static, R: Send + 'static> {
    tx: Option<SyncSender<M>>,
    handle: Option<JoinHandle<GnResult<R>>>,
    /// set when the backend abandons the file: the thread stops at its next message
    stop: Arc<AtomicBool>,
    name: &'static str,
    /// raises a pending cancel while the backend waits for room in the channel
    check_interrupts: fn(),
}

/// The thread's side of the channel: the messages, until the channel closes or the backend
/// abandons the file (what is still queued is then dropped unread).
pub struct Inbox<M> {
    rx: Receiver<M>,
    stop: Arc<AtomicBool>,
}

impl<M> Iterator for Inbox<M> {
    type Item = M;

    fn next(&mut self) -> Option<M> {
        let m = self.rx.recv().ok()?;
        (!self.stop.load(Ordering::Acquire)).then_some(m)
    }
}

impl<M: Send + 'static, R: Send + 'static> Worker<M, R> {
    /// Starts `work` on its own thread; `depth` messages may wait in the channel.
    pub fn spawn(
        name: &'static str,
        depth: usize,
        check_interrupts: fn(),
        work: impl FnOnce(Inbox<M>) -> GnResult<R> + Send + 'static,
    ) -> GnResult<Worker<M, R>> {
        let (tx, rx) = sync_channel(depth);
        let stop = Arc::new(AtomicBool::new(false));
        let inbox = Inbox {
            rx,
            stop: stop.clone(),
        };
        let handle = with_signals_blocked(|| {
            std::thread::Builder::new()
                .name(format!("gn_export {name}"))
                .spawn(move || work(inbox))
        })
        .map_err(|e| {
            GnError::new(
                Code::ERRCODE_INSUFFICIENT_RESOURCES,
                format!("gn_export: cannot start the {name} writer thread: {e}"),
            )
        })?;
        Ok(Worker {
            tx: Some(tx),
            handle: Some(handle),
            stop,
            name,
            check_interrupts,
        })
    }

    /// Hands a message to the thread, waiting while the channel is full (a cancel still
    /// interrupts the wait); the thread's error if it has stopped.
    pub fn send(&mut self, mut message: M) -> GnResult<()> {
        while let Some(tx) = &self.tx {
            match tx.try_send(message) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(m)) => {
                    message = m;
                    (self.check_interrupts)();
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
        }
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(self.stopped()),
        }
    }

    /// Closes the channel and returns what the thread made of everything it was sent.
    pub fn finish(mut self) -> GnResult<R> {
        self.join()?.ok_or_else(|| self.stopped())
    }

    fn stopped(&self) -> GnError {
        GnError::new(
            Code::ERRCODE_INTERNAL_ERROR,
            format!("gn_export: the {} writer thread stopped early", self.name),
        )
    }

    fn join(&mut self) -> GnResult<Option<R>> {
        self.tx = None;
        let Some(handle) = self.handle.take() else {
            return Ok(None);
        };
        match handle.join() {
            Ok(r) => r.map(Some),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(GnError::new(
                    Code::ERRCODE_INTERNAL_ERROR,
                    format!("gn_export: the {} writer thread failed: {what}", self.name),
                ))
            }
        }
    }
}

impl<M: Send + 'static, R: Send + 'static> Drop for Worker<M, R> {
    /// An abandoned file (an error, a cancel): the thread sees its channel close, stops after
    /// the message in hand, and is waited for, so nothing of it outlives the generation.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.join();
    }
}

/// Runs `f` (which starts a thread) with every signal blocked, so that the new thread inherits
/// a full mask and signals keep going to the backend's thread.
fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigset_t is plain data that sigfillset initialises; pthread_sigmask only changes
    // this thread's mask, and the previous mask is restored right after `f`.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let r = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        r
    }
}
