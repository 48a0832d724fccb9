//! Rows in bounded batches: the query is opened as a cursor (a portal), and each batch is
//! fetched by running the portal straight into our own DestReceiver, which decodes every row
//! in a memory context reset after it. Memory stays flat however many rows the export has.

pub mod decode;

use crate::access::definer::Definer;
use crate::encode::Value;
use crate::error::GnResult;
use crate::query::Plan;
use decode::Kind;
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Rows per fetch: big enough to amortise the fetch, small enough to keep the chunks queued by
/// run() small.
pub const BATCH: i64 = 1000;

/// A bound parameter of a generated query.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    TextArray(Vec<String>),
}

/// Bound parameters as SPI takes them.
pub fn datums(params: &[Param]) -> Vec<DatumWithOid<'static>> {
    params.iter().map(Param::datum).collect()
}

impl Param {
    pub fn datum(&self) -> DatumWithOid<'static> {
        match self {
            Param::Text(s) => s.clone().into(),
            Param::Int(i) => (*i).into(),
            Param::TextArray(v) => v.clone().into(),
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
    /// Opens `sql` (the plan's query, or another statement of the same plan) as its definer;
    /// every batch is fetched as the definer too.
    pub fn open(plan: &Plan, sql: &str, params: &[Param]) -> GnResult<Cursor> {
        let args = datums(params);
        let name = plan.definer.run(|| {
            Spi::connect(|client| -> GnResult<String> {
                let cursor = client.try_open_cursor(sql, &args)?;
                Ok(cursor.detach_into_name())
            })
        })?;
        Ok(Cursor {
            name,
            decoding: plan.decoding.clone(),
            definer: plan.definer,
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
        let n = self.definer.run(|| {
            with_receiver(&self.decoding, &mut f, |dest| unsafe {
                pg_sys::PortalRunFetch(
                    portal,
                    pg_sys::FetchDirection::FETCH_FORWARD,
                    BATCH as _,
                    dest,
                ) as usize
            })
        });
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

/// Runs the plan's whole query at once, as its definer, into our DestReceiver
/// (SPI_execute_extended with a dest), so that PostgreSQL may plan it in parallel, as it does
/// for COPY; returns the number of rows. For consumers that take everything in one go
/// (generate(), the COPY fast path); run() streams with a Cursor.
pub fn run_all(plan: &Plan, f: impl FnMut(&[Value]) -> GnResult<()>) -> GnResult<u64> {
    plan.definer
        .run(|| execute(&plan.sql, &plan.params, &plan.decoding, f))
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
        // SAFETY: SPI is connected for the duration of this closure. The parameter list is
        // allocated in the current (SPI procedure) memory context and filled completely before
        // use; every datum is a fresh copy in that context; the receiver outlives the call.
        unsafe {
            let pl = pg_sys::makeParamList(params.len() as i32);
            let slots = (*pl).params.as_mut_slice(params.len());
            for (slot, p) in slots.iter_mut().zip(params) {
                let (value, ptype) = match p {
                    Param::Text(t) => (t.clone().into_datum(), pg_sys::TEXTOID),
                    Param::Int(i) => (i.into_datum(), pg_sys::INT8OID),
                    Param::TextArray(v) => (v.clone().into_datum(), pg_sys::TEXTARRAYOID),
                };
                *slot = pg_sys::ParamExternData {
                    value: value.unwrap_or(pg_sys::Datum::from(0usize)),
                    isnull: false,
                    pflags: pg_sys::PARAM_FLAG_CONST as u16,
                    ptype,
                };
            }
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
                pg_sys::SPI_execute_extended(csql.as_ptr(), &opts)
            });
            if rc < 0 {
                return Err(crate::error::GnError::new(
                    pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    format!("gn_export: SPI_execute_extended failed ({rc})"),
                ));
            }
            Ok(pg_sys::SPI_processed)
        }
    })
}

/// Builds a DestReceiver that decodes each row and hands it to `f`, for the duration of `body`.
fn with_receiver<R>(
    decoding: &Decoding,
    f: &mut dyn FnMut(&[Value]) -> GnResult<()>,
    body: impl FnOnce(*mut pg_sys::DestReceiver) -> R,
) -> R {
    let mut f = f;
    // the callback reaches the closure through a thin pointer to this fat reference
    let f_ptr = &mut f as *mut &mut dyn FnMut(&[Value]) -> GnResult<()> as *mut std::ffi::c_void;
    // SAFETY: the receiver lives on this stack frame while `body` runs, and its callbacks only
    // run during `body`; its memory context is a child of the current one and is deleted
    // below (or with its parent if an ERROR unwinds through here).
    unsafe {
        let row_cxt = pg_sys::AllocSetContextCreateInternal(
            pg_sys::CurrentMemoryContext,
            c"gn_export row".as_ptr(),
            0,
            8 * 1024,
            8 * 1024 * 1024,
        );
        let mut rx = Receiver {
            base: pg_sys::DestReceiver {
                receiveSlot: Some(rx_receive),
                rStartup: Some(rx_startup),
                rShutdown: Some(rx_noop),
                rDestroy: Some(rx_noop),
                mydest: pg_sys::CommandDest::DestNone,
            },
            decoding: decoding.clone(),
            kinds: Vec::new(),
            row_cxt,
            f: f_ptr,
        };
        let r = body(&mut rx.base);
        pg_sys::MemoryContextDelete(row_cxt);
        r
    }
}

/// The DestReceiver a batch is fetched into.
#[repr(C)]
struct Receiver {
    base: pg_sys::DestReceiver,
    decoding: Decoding,
    kinds: Vec<Kind>,
    row_cxt: pg_sys::MemoryContext,
    /// a `*mut &mut dyn FnMut(&[Value]) -> GnResult<()>`, alive during PortalRunFetch
    f: *mut std::ffi::c_void,
}

#[pg_guard]
unsafe extern "C-unwind" fn rx_startup(
    me: *mut pg_sys::DestReceiver,
    _op: std::ffi::c_int,
    desc: pg_sys::TupleDesc,
) {
    let rx = &mut *(me as *mut Receiver);
    let natts = (*desc).natts as usize;
    let attrs = std::slice::from_raw_parts((*desc).attrs.as_ptr(), natts);
    rx.kinds = attrs
        .iter()
        .enumerate()
        .map(|(i, a)| match &rx.decoding.postgis {
            Some(p) if Some(i) == rx.decoding.feature_column => {
                Kind::feature(p, rx.decoding.feature_srid)
            }
            Some(p) if rx.decoding.wkt_columns.contains(&i) => Kind::wkt(p),
            _ => Kind::for_type(a.atttypid),
        })
        .collect();
}

#[pg_guard]
unsafe extern "C-unwind" fn rx_receive(
    slot: *mut pg_sys::TupleTableSlot,
    me: *mut pg_sys::DestReceiver,
) -> bool {
    use crate::error::OrRaise;
    let rx = &mut *(me as *mut Receiver);
    pg_sys::slot_getallattrs(slot);
    let natts = rx.kinds.len();
    let values = std::slice::from_raw_parts((*slot).tts_values, natts);
    let nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts);
    let old = pg_sys::MemoryContextSwitchTo(rx.row_cxt);
    let row: Vec<Value> = (0..natts)
        .map(|i| rx.kinds[i].decode(values[i], nulls[i]))
        .collect();
    let f = &mut *(rx.f as *mut &mut dyn FnMut(&[Value]) -> GnResult<()>);
    let res = f(&row);
    drop(row);
    pg_sys::MemoryContextSwitchTo(old);
    pg_sys::MemoryContextReset(rx.row_cxt);
    res.or_raise();
    true
}

#[pg_guard]
unsafe extern "C-unwind" fn rx_noop(_me: *mut pg_sys::DestReceiver) {}
