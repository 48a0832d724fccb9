//! Progress of a generation, published the way COPY publishes its own: other sessions see rows
//! and bytes so far in `pg_stat_progress_copy` (command 'COPY TO', type 'FILE' or 'CALLBACK').

use pgrx::pg_sys;

/// Reports progress while alive; the report ends when it is dropped (or the backend aborts).
pub struct Progress(());

impl Progress {
    /// `relid` is the relation being exported; `to_file` tells FILE from CALLBACK (client).
    pub fn start(relid: pg_sys::Oid, to_file: bool) -> Progress {
        // SAFETY: the progress slot belongs to this backend; PostgreSQL ends it on abort.
        unsafe {
            pg_sys::pgstat_progress_start_command(
                pg_sys::ProgressCommandType::PROGRESS_COMMAND_COPY,
                relid,
            );
            pg_sys::pgstat_progress_update_param(
                pg_sys::PROGRESS_COPY_COMMAND as i32,
                pg_sys::PROGRESS_COPY_COMMAND_TO as i64,
            );
            let kind = if to_file {
                pg_sys::PROGRESS_COPY_TYPE_FILE
            } else {
                pg_sys::PROGRESS_COPY_TYPE_CALLBACK
            };
            pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_TYPE as i32, kind as i64);
        }
        Progress(())
    }

    /// This report as the pump takes it: a function of rows and bytes so far, which ends the
    /// report when dropped.
    pub fn reporter(self) -> Box<dyn Fn(i64, i64)> {
        Box::new(move |rows, bytes| self.update(rows, bytes))
    }

    pub fn update(&self, rows: i64, bytes: i64) {
        // SAFETY: as above; two plain stores into this backend's status slot.
        unsafe {
            pg_sys::pgstat_progress_update_param(
                pg_sys::PROGRESS_COPY_TUPLES_PROCESSED as i32,
                rows,
            );
            pg_sys::pgstat_progress_update_param(
                pg_sys::PROGRESS_COPY_BYTES_PROCESSED as i32,
                bytes,
            );
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // SAFETY: ending a command that this backend started.
        unsafe { pg_sys::pgstat_progress_end_command() }
    }
}
