//! Rows in bounded batches: the query is opened as a cursor (a portal), and each batch is
//! fetched by running the portal straight into our own DestReceiver, which decodes every row
//! in a memory context reset after it. Memory stays flat however many rows the export has.

pub mod decode;
mod postgis;
mod prepared;
mod receiver;

use crate::definer::Definer;
use crate::encode::Value;
use crate::error::GnResult;
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;
use receiver::with_receiver;

/// Rows per fetch: big enough to amortise the fetch, small enough to keep the chunks queued by
/// run() small.
pub const BATCH: i64 = 1000;

/// A statement to run, as the query stage hands it over: its text and parameters, how its rows
/// are decoded, and whose rights it runs with (source never sees the plan it comes from).
#[derive(Clone, Copy)]
pub struct Statement<'a> {
    pub definer: Definer,
    pub sql: &'a str,
    pub params: &'a [Param],
    /// how its rows are decoded; `None`: plainly, no geometry (keys, counts)
    pub decoding: Option<&'a Decoding>,
}

/// A bound parameter of a generated query.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    TextArray(Vec<Option<String>>),
    IntArray(Vec<i64>),
}

/// Bound parameters as SPI takes them.
pub fn datums(params: &[Param]) -> Vec<DatumWithOid<'static>> {
    params.iter().map(Param::datum).collect()
}

impl Param {
    /// The parameter's type, as a prepared statement declares it.
    pub fn type_oid(&self) -> pg_sys::Oid {
        match self {
            Param::Text(_) => pg_sys::TEXTOID,
            Param::Int(_) => pg_sys::INT8OID,
            Param::TextArray(_) => pg_sys::TEXTARRAYOID,
            Param::IntArray(_) => pg_sys::INT8ARRAYOID,
        }
    }

    /// The parameter as a datum in the current memory context (never NULL).
    pub fn to_datum(&self) -> pg_sys::Datum {
        let d = match self {
            Param::Text(t) => t.clone().into_datum(),
            Param::Int(i) => i.into_datum(),
            Param::TextArray(v) => v.clone().into_datum(),
            Param::IntArray(v) => v.clone().into_datum(),
        };
        d.unwrap_or(pg_sys::Datum::from(0usize))
    }

    pub fn datum(&self) -> DatumWithOid<'static> {
        match self {
            Param::Text(s) => s.clone().into(),
            Param::Int(i) => (*i).into(),
            Param::TextArray(v) => v.clone().into(),
            Param::IntArray(v) => v.clone().into(),
        }
    }
}

/// How to decode the columns: the GeoJSON feature geometry, if any, is made WKB in EPSG:4326
/// by PostGIS's own functions, called row by row with cached function info.
#[derive(Debug, Clone, Default)]
pub struct Decoding {
    pub feature_column: Option<usize>,
    /// where the feature geometry ends up (EPSG:4326, or a GeoPackage layer's SRID)
    pub feature_srid: decode::FeatureSrid,
    /// geometry columns rendered as WKT (by ST_AsText, called the same way)
    pub wkt_columns: Vec<usize>,
    pub postgis: Option<decode::Postgis>,
}

/// A query opened as a cursor that outlives SPI sessions (its portal lives until the end of the
/// transaction or [`Cursor::close`]).
pub struct Cursor {
    name: String,
    decoding: Decoding,
    definer: Definer,
    done: bool,
}

impl Cursor {
    /// Opens the statement as its definer; every batch is fetched as the definer too.
    pub fn open(st: &Statement) -> GnResult<Cursor> {
        let args = datums(st.params);
        Cursor::open_with(st, |client| {
            Ok(client.try_open_cursor(st.sql, &args)?.detach_into_name())
        })
    }

    /// Opens `sql` like [`Cursor::open`], from a generic plan prepared once per session and
    /// kept: for a statement run again and again with other parameters (the API's pages, whose
    /// text is the same for every page of a query), where planning the view's joins would cost
    /// about as much as running them for a page. The plan cache revalidates kept plans after
    /// DDL, as for any prepared statement.
    pub fn open_prepared(st: &Statement) -> GnResult<Cursor> {
        Cursor::open_with(st, |_| prepared::open(st.sql, st.params))
    }

    /// A cursor on the portal `open` names, opened as the statement's definer with SPI
    /// connected.
    fn open_with(
        st: &Statement,
        open: impl FnOnce(&pgrx::spi::SpiClient<'_>) -> GnResult<String>,
    ) -> GnResult<Cursor> {
        let name = st.definer.run(|| Spi::connect(|client| open(client)))?;
        Ok(Cursor {
            name,
            decoding: st.decoding.cloned().unwrap_or_default(),
            definer: st.definer,
            done: false,
        })
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fetches the next batch and hands each row to `f`; returns the number of rows.
    /// The decoded values only live during the call to `f`.
    ///
    /// The portal runs straight into our own DestReceiver, as FETCH does (PortalRunFetch):
    /// no SPI tuple table, no copy of the tuples, a memory context reset after every row.
    pub fn next_batch(&mut self, mut f: impl FnMut(&[Value]) -> GnResult<()>) -> GnResult<usize> {
        if self.done {
            return Ok(0);
        }
        let name = std::ffi::CString::new(self.name.as_str()).expect("portal names have no NUL");
        // SAFETY: the portal was opened by Cursor::open in this transaction and is only closed
        // by Cursor::close; GetPortalByName returns NULL if it has gone.
        let portal = unsafe { pg_sys::GetPortalByName(name.as_ptr()) };
        if portal.is_null() {
            return Err(crate::error::GnError::new(
                pgrx::PgSqlErrorCode::ERRCODE_INVALID_CURSOR_NAME,
                format!("gn_export: cursor {} is gone", self.name),
            ));
        }
        // SAFETY: the portal is valid (checked above) and not running; PortalRunFetch sets up
        // its snapshot and resource owner itself, as FETCH does.
        let definer = self.definer;
        let n = definer.run(|| {
            Ok(with_receiver(&self.decoding, &mut f, |dest| unsafe {
                pg_sys::PortalRunFetch(
                    portal,
                    pg_sys::FetchDirection::FETCH_FORWARD,
                    BATCH as _,
                    dest,
                ) as usize
            }))
        })?;
        if (n as i64) < BATCH {
            self.done = true;
        }
        Ok(n)
    }

    /// Closes the portal now rather than at the end of the transaction.
    pub fn close(self) {
        let _ = Spi::connect(|client| -> GnResult<()> {
            // dropping a found cursor closes it
            let _ = client.find_cursor(&self.name)?;
            Ok(())
        });
    }
}

/// Runs the whole statement at once, as its definer, into our DestReceiver
/// (SPI_execute_extended with a dest), so that PostgreSQL may plan it in parallel, as it does
/// for COPY; returns the number of rows. For consumers that take everything in one go
/// (generate(), the COPY fast path, the API's statements); run() streams with a Cursor.
pub fn run_all(st: &Statement, f: impl FnMut(&[Value]) -> GnResult<()>) -> GnResult<u64> {
    let plain = Decoding::default();
    let decoding = st.decoding.unwrap_or(&plain);
    st.definer.run(|| execute(st.sql, st.params, decoding, f))
}

/// The single integer the statement returns (a count), run like [`run_all`].
pub fn count(st: &Statement) -> GnResult<i64> {
    let mut n = 0;
    run_all(st, |row| {
        if let Some(Value::Int(v)) = row.first() {
            n = *v;
        }
        Ok(())
    })?;
    Ok(n)
}

fn execute(
    sql: &str,
    params: &[Param],
    decoding: &Decoding,
    mut f: impl FnMut(&[Value]) -> GnResult<()>,
) -> GnResult<u64> {
    let csql = std::ffi::CString::new(sql).map_err(|_| {
        crate::error::GnError::new(
            pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "gn_export: NUL in generated SQL",
        )
    })?;
    Spi::connect(|_client| {
        let pl = param_list(params);
        let rc = with_receiver(decoding, &mut f, |dest| {
            let opts = pg_sys::SPIExecuteOptions {
                params: pl,
                read_only: true,
                allow_nonatomic: false,
                must_return_tuples: false,
                tcount: 0,
                dest,
                owner: std::ptr::null_mut(),
            };
            // SAFETY: SPI is connected for this closure; the text is NUL-terminated, and the
            // parameter list and the receiver outlive the call
            unsafe { pg_sys::SPI_execute_extended(csql.as_ptr(), &opts) }
        });
        if rc < 0 {
            return Err(crate::error::GnError::new(
                pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("gn_export: SPI_execute_extended failed ({rc})"),
            ));
        }
        // SAFETY: a read of SPI's global, set by the call above
        Ok(unsafe { pg_sys::SPI_processed })
    })
}

/// The statement's parameters as PostgreSQL takes them: a list in the current memory context,
/// filled completely, each datum a fresh copy in that context.
fn param_list(params: &[Param]) -> pg_sys::ParamListInfo {
    // SAFETY: makeParamList allocates room for exactly `params.len()` entries
    unsafe {
        let pl = pg_sys::makeParamList(params.len() as i32);
        let slots = (*pl).params.as_mut_slice(params.len());
        for (slot, p) in slots.iter_mut().zip(params) {
            *slot = pg_sys::ParamExternData {
                value: p.to_datum(),
                isnull: false,
                pflags: pg_sys::PARAM_FLAG_CONST as u16,
                ptype: p.type_oid(),
            };
        }
        pl
    }
}

/// A column of a query's result.
pub struct Attribute {
    pub name: String,
    pub type_oid: pg_sys::Oid,
}

/// Plans an analysed SELECT (a COPY's query) and runs it into our DestReceiver, as core COPY
/// does with its own, so that PostgreSQL may plan it in parallel. Before the first row,
/// `start` is told the result's columns and returns how to decode them and the consumer that
/// `f` is given with each row; that consumer is returned at the end.
///
/// # Safety
/// `query` must be a valid analysed SELECT, `text` its source text and `params` the statement's
/// parameters (or NULL), all valid for the duration of the call.
pub unsafe fn run_query<T>(
    query: *mut pg_sys::Query,
    text: *const std::ffi::c_char,
    params: pg_sys::ParamListInfo,
    start: impl FnOnce(&[Attribute]) -> GnResult<(Decoding, T)>,
    mut f: impl FnMut(&mut T, &[Value]) -> GnResult<()>,
) -> GnResult<T> {
    // the sequence of core COPY's BeginCopyTo/DoCopyTo/EndCopyTo: plan, push a copy of the
    // active snapshot, create and start the query descriptor, run it, end and free it, pop the
    // snapshot. An ERROR in between is cleaned up by the transaction's abort, as for core COPY.
    // SAFETY: the caller's contract
    let qd = unsafe { start_query(query, text, params) };
    // SAFETY: ExecutorStart filled in the descriptor's result type
    let started = start(&unsafe { attributes((*qd).tupDesc) });
    let result = started.map(|(decoding, mut consumer)| {
        let mut each = |row: &[Value]| f(&mut consumer, row);
        with_receiver(&decoding, &mut each, |dest| {
            // SAFETY: the receiver is set after ExecutorStart (which never calls it) and before
            // ExecutorRun (which does), once the result's columns are known
            unsafe {
                (*qd).dest = dest;
                crate::pg_compat::executor_run(qd);
                pg_sys::ExecutorFinish(qd);
            }
        });
        consumer
    });
    // ended whether `start` refused the columns or not: a caller that does not raise the error
    // leaves no executor state or snapshot behind
    // SAFETY: the descriptor and the snapshot pushed by start_query
    unsafe {
        pg_sys::ExecutorEnd(qd);
        pg_sys::FreeQueryDesc(qd);
        pg_sys::PopActiveSnapshot();
    }
    result
}

/// Plans the query, pushes a copy of the active snapshot, and starts a query descriptor whose
/// receiver is set later.
///
/// # Safety
/// As [`run_query`]'s; the caller ends the descriptor and pops the snapshot.
unsafe fn start_query(
    query: *mut pg_sys::Query,
    text: *const std::ffi::c_char,
    params: pg_sys::ParamListInfo,
) -> *mut pg_sys::QueryDesc {
    // SAFETY: the caller's contract
    unsafe {
        let plan =
            pg_sys::pg_plan_query(query, text, pg_sys::CURSOR_OPT_PARALLEL_OK as i32, params);
        pg_sys::PushCopiedSnapshot(pg_sys::GetActiveSnapshot());
        pg_sys::UpdateActiveSnapshotCommandId();
        let qd = pg_sys::CreateQueryDesc(
            plan,
            text,
            pg_sys::GetActiveSnapshot(),
            std::ptr::null_mut(),
            pg_sys::CreateDestReceiver(pg_sys::CommandDest::DestNone),
            params,
            std::ptr::null_mut(),
            0,
        );
        pg_sys::ExecutorStart(qd, 0);
        qd
    }
}

/// The columns of a TupleDesc.
///
/// # Safety
/// `desc` must be a valid TupleDesc.
unsafe fn attributes(desc: pg_sys::TupleDesc) -> Vec<Attribute> {
    // SAFETY: a valid TupleDesc holds `natts` attributes, each with a NUL-terminated name.
    unsafe {
        crate::pg_compat::tupdesc_attrs(desc)
            .iter()
            .map(|a| Attribute {
                name: std::ffi::CStr::from_ptr(a.attname.data.as_ptr())
                    .to_string_lossy()
                    .into_owned(),
                type_oid: a.atttypid,
            })
            .collect()
    }
}
