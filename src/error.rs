//! One error type for everything a caller can get wrong, raised as a PostgreSQL error with its
//! SQLSTATE, a message that names the object, and a hint that says what to do.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GnError {
    pub code: PgSqlErrorCode,
    pub message: String,
    pub hint: Option<String>,
}

pub type GnResult<T> = Result<T, GnError>;

impl GnError {
    pub fn new(code: PgSqlErrorCode, message: impl Into<String>) -> Self {
        GnError {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Raises the error in PostgreSQL: the transaction aborts with this SQLSTATE.
    pub fn raise(self) -> ! {
        let mut report = ErrorReport::new(self.code, self.message, "gn_export");
        if let Some(h) = self.hint {
            report = report.set_hint(h);
        }
        report.report(PgLogLevel::ERROR);
        unreachable!("ERROR-level reports do not return")
    }
}

/// An error of the file system, as `what` met it: 53100 when the disk is full, 58030 otherwise.
pub fn io_error(what: &str, e: std::io::Error) -> GnError {
    let code = match e.raw_os_error() {
        Some(28) => PgSqlErrorCode::ERRCODE_DISK_FULL,
        _ => PgSqlErrorCode::ERRCODE_IO_ERROR,
    };
    GnError::new(code, format!("gn_export: {what}: {e}"))
}

/// Unwraps a result or raises its error in PostgreSQL.
pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for GnResult<T> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|e| e.raise())
    }
}

/// SPI failures are not caller errors: they keep PostgreSQL's own message under XX000 only if
/// they are truly internal. Most SPI errors already raised their own ereport before we see them.
impl From<pgrx::spi::Error> for GnError {
    fn from(e: pgrx::spi::Error) -> Self {
        GnError::new(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("gn_export: SPI failed: {e}"),
        )
    }
}
