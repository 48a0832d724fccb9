//! The COPY hook: `COPY (query) TO STDOUT|'file' WITH (FORMAT raw|json|geojson|geojsonseq
//! [, GEOMETRY 'col'] [, ID 'col'])`. Every other utility statement, and every other COPY, goes
//! to the previous hook or to PostgreSQL untouched.
//!
//! The query is planned and run by the executor straight into a DestReceiver that encodes each
//! row and sends the bytes in 64 KiB CopyData messages, as PostgreSQL's own COPY does: no
//! SPI, no materialisation, a per-row memory context reset after every row.

use super::dir::{io_error, Dir, Temp};
use crate::encode::csv::Csv;
use crate::encode::geojson::GeoJson;
use crate::encode::json::Json;
use crate::encode::{Column, Encoder, Feature, Value};
use crate::error::{GnError, GnResult, OrRaise};
use crate::progress::Progress;
use crate::settings::{self, GucScope};
use crate::source::decode::{FeatureSrid, Kind, Postgis};
use pgrx::pg_sys::{self, Oid};
use pgrx::prelude::*;
use pgrx::{PgList, PgSqlErrorCode as Code};
use std::ffi::{CStr, CString};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

const FLUSH_AT: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyFormat {
    Raw,
    Json,
    GeoJson,
    GeoJsonSeq,
}

impl CopyFormat {
    fn parse(s: &str) -> Option<CopyFormat> {
        match s.to_ascii_lowercase().as_str() {
            "raw" => Some(CopyFormat::Raw),
            "json" => Some(CopyFormat::Json),
            "geojson" => Some(CopyFormat::GeoJson),
            "geojsonseq" => Some(CopyFormat::GeoJsonSeq),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            CopyFormat::Raw => "raw",
            CopyFormat::Json => "json",
            CopyFormat::GeoJson => "geojson",
            CopyFormat::GeoJsonSeq => "geojsonseq",
        }
    }
}

struct Request {
    format: CopyFormat,
    geometry: Option<String>,
    id: Option<String>,
}

static mut PREV_HOOK: pg_sys::ProcessUtility_hook_type = None;

/// Installs the hook; called from _PG_init.
pub fn install() {
    // SAFETY: _PG_init runs once per backend, before any statement, on the only thread.
    unsafe {
        PREV_HOOK = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

/// # Safety
/// `l` must be a valid List of DefElem (or NIL).
unsafe fn options(l: *mut pg_sys::List) -> Vec<(String, *mut pg_sys::DefElem)> {
    PgList::<pg_sys::DefElem>::from_pg(l)
        .iter_ptr()
        .map(|d| {
            (
                CStr::from_ptr((*d).defname).to_string_lossy().into_owned(),
                d,
            )
        })
        .collect()
}

/// # Safety
/// `d` must be a valid DefElem.
unsafe fn def_string(d: *mut pg_sys::DefElem) -> String {
    CStr::from_ptr(pg_sys::defGetString(d))
        .to_string_lossy()
        .into_owned()
}

/// Whether this statement is a COPY in one of our formats, and with which options.
///
/// # Safety
/// `stmt` must be a valid utility statement node.
unsafe fn our_copy(stmt: *mut pg_sys::Node) -> GnResult<Option<(Request, *mut pg_sys::CopyStmt)>> {
    if stmt.is_null() || (*stmt).type_ != pg_sys::NodeTag::T_CopyStmt {
        return Ok(None);
    }
    let copy = stmt as *mut pg_sys::CopyStmt;
    let opts = options((*copy).options);
    let Some(format) = opts
        .iter()
        .find(|(n, _)| n == "format")
        .and_then(|(_, d)| CopyFormat::parse(&def_string(*d)))
    else {
        return Ok(None);
    };
    let mut req = Request {
        format,
        geometry: None,
        id: None,
    };
    for (name, d) in &opts {
        match name.as_str() {
            "format" => {}
            "geometry" if format != CopyFormat::Raw => req.geometry = Some(def_string(*d)),
            "id" if format != CopyFormat::Raw => req.id = Some(def_string(*d)),
            other => {
                let allowed = if format == CopyFormat::Raw {
                    "none"
                } else {
                    "GEOMETRY 'column' and ID 'column'"
                };
                return Err(GnError::new(
                    Code::ERRCODE_SYNTAX_ERROR,
                    format!(
                        "COPY option \"{other}\" is not supported with FORMAT {}",
                        format.name()
                    ),
                )
                .hint(format!(
                    "Options allowed with FORMAT {}: {allowed}.",
                    format.name()
                )));
            }
        }
    }
    if (*copy).is_from {
        return Err(GnError::new(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("COPY FROM is not supported with FORMAT {}", format.name()),
        ));
    }
    if (*copy).is_program {
        return Err(GnError::new(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!(
                "COPY TO PROGRAM is not supported with FORMAT {}",
                format.name()
            ),
        )
        .hint(
            "COPY to STDOUT and pipe it, e.g. psql -c \"COPY ... TO STDOUT ...\" | gzip > file",
        ));
    }
    Ok(Some((req, copy)))
}

#[allow(clippy::too_many_arguments)] // PostgreSQL's ProcessUtility_hook signature
#[pg_guard]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    if let Some((req, _)) = our_copy((*pstmt).utilityStmt).or_raise() {
        // A statement from the plan cache (a named prepared statement, static SQL in PL/pgSQL)
        // comes as a read-only tree, and parse analysis scribbles on it (sublinks): work on a
        // copy, as standard_ProcessUtility does.
        let pstmt = if read_only_tree {
            pg_sys::copyObjectImpl(pstmt as *const std::ffi::c_void) as *mut pg_sys::PlannedStmt
        } else {
            pstmt
        };
        let copy = (*pstmt).utilityStmt as *mut pg_sys::CopyStmt;
        let n = run_copy(req, copy, pstmt, query_string, params).or_raise();
        if !qc.is_null() {
            (*qc).commandTag = pg_sys::CommandTag::CMDTAG_COPY;
            (*qc).nprocessed = n;
        }
        return;
    }
    match PREV_HOOK {
        Some(prev) => prev(
            pstmt,
            query_string,
            read_only_tree,
            context,
            params,
            query_env,
            dest,
            qc,
        ),
        None => pg_sys::standard_ProcessUtility(
            pstmt,
            query_string,
            read_only_tree,
            context,
            params,
            query_env,
            dest,
            qc,
        ),
    }
}

enum Target {
    Client(Box<pg_sys::StringInfoData>),
    /// a regular file, written to a temporary file and renamed over this name in its directory
    File(Temp, String),
    /// a device or a FIFO (`/dev/null`, a named pipe), written in place as core COPY does
    Device(BufWriter<File>),
}

impl Target {
    /// A server file (progress type FILE) rather than the client (CALLBACK).
    fn is_file(&self) -> bool {
        !matches!(self, Target::Client(_))
    }
}

struct State {
    req: Request,
    postgis: Option<Postgis>,
    cols: Vec<Kind>,
    encoder: Option<Box<dyn Encoder>>,
    out: Vec<u8>,
    target: Target,
    rows: u64,
    bytes: u64,
    row_cxt: pg_sys::MemoryContext,
    progress: Progress,
}

#[repr(C)]
struct Receiver {
    base: pg_sys::DestReceiver,
    state: *mut State,
}

impl State {
    fn flush(&mut self, force: bool) -> GnResult<()> {
        if self.out.is_empty() || (!force && self.out.len() < FLUSH_AT) {
            return Ok(());
        }
        match &mut self.target {
            Target::Client(buf) => {
                // SAFETY: buf is a StringInfo we initialised; pq_*_reuse keep its allocation.
                unsafe {
                    pg_sys::pq_beginmessage_reuse(buf.as_mut(), b'd' as std::ffi::c_char);
                    pg_sys::pq_sendbytes(
                        buf.as_mut(),
                        self.out.as_ptr() as *const _,
                        self.out.len() as i32,
                    );
                    pg_sys::pq_endmessage_reuse(buf.as_mut());
                }
            }
            Target::File(t, _) => t.write(&self.out)?,
            Target::Device(w) => w
                .write_all(&self.out)
                .map_err(|e| io_error("cannot write to the COPY target", e))?,
        }
        self.bytes += self.out.len() as u64;
        self.progress.update(self.rows as i64, self.bytes as i64);
        self.out.clear();
        Ok(())
    }

    /// Chooses how each column is rendered and builds the encoder, from the result's TupleDesc.
    ///
    /// # Safety
    /// `desc` must be the valid TupleDesc of the rows to come.
    unsafe fn start(&mut self, desc: pg_sys::TupleDesc) -> GnResult<()> {
        let natts = (*desc).natts as usize;
        let attrs = std::slice::from_raw_parts((*desc).attrs.as_ptr(), natts);
        let names: Vec<String> = attrs
            .iter()
            .map(|a| {
                CStr::from_ptr(a.attname.data.as_ptr())
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let geom_type = self.postgis.map(|p| p.geometry);
        let is_geom =
            |a: &pg_sys::FormData_pg_attribute| Some(pg_sys::getBaseType(a.atttypid)) == geom_type;
        if self.req.format == CopyFormat::Raw {
            let ok = natts == 1
                && matches!(
                    pg_sys::getBaseType(attrs[0].atttypid),
                    pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID | pg_sys::BYTEAOID
                );
            if !ok {
                return Err(GnError::new(
                    Code::ERRCODE_DATATYPE_MISMATCH,
                    format!("COPY FORMAT raw needs a query with exactly one text or bytea column, not {natts} column(s)"),
                )
                .hint("For instance: COPY (SELECT gn_export.run(1, 'geojson')) TO STDOUT WITH (FORMAT raw)"));
            }
            self.cols = vec![Kind::Bytea];
            self.encoder = None;
            return Ok(());
        }
        let find = |opt: &str, name: &str| -> GnResult<usize> {
            names.iter().position(|n| n == name).ok_or_else(|| {
                GnError::new(
                    Code::ERRCODE_UNDEFINED_COLUMN,
                    format!("COPY {opt} '{name}': the query has no column \"{name}\""),
                )
                .hint(format!("Columns: {}.", names.join(", ")))
            })
        };
        let needs_geom = matches!(
            self.req.format,
            CopyFormat::GeoJson | CopyFormat::GeoJsonSeq
        );
        let feature_geom = if needs_geom {
            let g = match &self.req.geometry {
                Some(name) => {
                    let i = find("GEOMETRY", name)?;
                    if !is_geom(&attrs[i]) {
                        return Err(GnError::new(
                            Code::ERRCODE_DATATYPE_MISMATCH,
                            format!("COPY GEOMETRY '{name}': column \"{name}\" is not a PostGIS geometry"),
                        )
                        .hint("Cast it in the query, e.g. geog::geometry."));
                    }
                    i
                }
                None => attrs.iter().position(is_geom).ok_or_else(|| {
                    GnError::new(
                        Code::ERRCODE_INVALID_PARAMETER_VALUE,
                        format!(
                            "COPY FORMAT {}: the query has no geometry column",
                            self.req.format.name()
                        ),
                    )
                    .hint("Select a PostGIS geometry column, or use FORMAT json.")
                })?,
            };
            Some(g)
        } else {
            None
        };
        let id = match &self.req.id {
            Some(name) => Some(find("ID", name)?),
            None => None,
        };
        let mut columns = Vec::with_capacity(natts);
        self.cols = attrs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let geom = is_geom(a);
                columns.push(Column {
                    name: names[i].clone(),
                    geometry: geom,
                });
                match &self.postgis {
                    // any query: rows without SRID are taken as EPSG:4326
                    Some(p) if Some(i) == feature_geom => Kind::feature(
                        p,
                        FeatureSrid {
                            target: 4326,
                            default: 0,
                            drop_m: false,
                        },
                    ),
                    Some(p) if geom => Kind::wkt(p),
                    _ => Kind::for_type(a.atttypid),
                }
            })
            .collect();
        self.encoder = Some(match (self.req.format, feature_geom) {
            (CopyFormat::Json, _) => Box::new(Json::new(&columns)),
            (f, Some(g)) => Box::new(GeoJson::new(
                &columns,
                Feature {
                    geometry: g,
                    id,
                    decimals: settings::geojson_decimals(),
                },
                f == CopyFormat::GeoJsonSeq,
            )),
            _ => Box::new(Csv::new(&columns, b';')), // unreachable: geojson always has a geometry
        });
        if let Some(e) = self.encoder.as_mut() {
            e.header(&mut self.out);
        }
        Ok(())
    }

    /// # Safety
    /// `slot` must be a valid slot of the TupleDesc given to `start`.
    unsafe fn row(&mut self, slot: *mut pg_sys::TupleTableSlot) -> GnResult<()> {
        pg_sys::slot_getallattrs(slot);
        let natts = self.cols.len();
        let values = std::slice::from_raw_parts((*slot).tts_values, natts);
        let nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts);
        if self.req.format == CopyFormat::Raw {
            if !nulls[0] {
                let bytes = match Kind::Bytea.decode(values[0], false) {
                    Value::Bytea(b) => b,
                    _ => &[],
                };
                self.out.extend_from_slice(bytes);
            }
        } else {
            let row: Vec<Value> = (0..natts)
                .map(|i| self.cols[i].decode(values[i], nulls[i]))
                .collect();
            let enc = self.encoder.as_mut().expect("started");
            enc.row(&row, &mut self.out).map_err(|e| {
                GnError::new(
                    Code::ERRCODE_DATA_EXCEPTION,
                    format!("COPY FORMAT {}: {}", self.req.format.name(), e.0),
                )
            })?;
        }
        self.rows += 1;
        self.flush(false)
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn r_startup(
    me: *mut pg_sys::DestReceiver,
    _op: std::ffi::c_int,
    desc: pg_sys::TupleDesc,
) {
    let state = &mut *(*(me as *mut Receiver)).state;
    state.start(desc).or_raise();
    if let Target::Client(_) = state.target {
        send_copy_out_response(if state.req.format == CopyFormat::Raw {
            1
        } else {
            (*desc).natts as u16
        });
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn r_receive(
    slot: *mut pg_sys::TupleTableSlot,
    me: *mut pg_sys::DestReceiver,
) -> bool {
    let state = &mut *(*(me as *mut Receiver)).state;
    let old = pg_sys::MemoryContextSwitchTo(state.row_cxt);
    let res = state.row(slot);
    pg_sys::MemoryContextSwitchTo(old);
    pg_sys::MemoryContextReset(state.row_cxt);
    res.or_raise();
    true
}

#[pg_guard]
unsafe extern "C-unwind" fn r_shutdown(_me: *mut pg_sys::DestReceiver) {}

#[pg_guard]
unsafe extern "C-unwind" fn r_destroy(_me: *mut pg_sys::DestReceiver) {}

/// Plans and runs the query of a COPY statement into our receiver; returns the row count.
///
/// # Safety
/// Arguments come from ProcessUtility and are valid for its duration.
unsafe fn run_copy(
    req: Request,
    copy: *mut pg_sys::CopyStmt,
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    params: pg_sys::ParamListInfo,
) -> GnResult<u64> {
    let format = req.format;
    // where the bytes go: the client, or a server file (a privilege, as for core COPY)
    let target = if (*copy).filename.is_null() {
        if pg_sys::whereToSendOutput != pg_sys::CommandDest::DestRemote {
            return Err(GnError::new(
                Code::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "COPY TO STDOUT with FORMAT {} needs a client connection",
                    format.name()
                ),
            ));
        }
        let mut buf: Box<pg_sys::StringInfoData> = Box::new(std::mem::zeroed());
        pg_sys::initStringInfo(buf.as_mut());
        Target::Client(buf)
    } else {
        let allowed = pg_sys::superuser()
            || pg_sys::has_privs_of_role(
                pg_sys::GetUserId(),
                Oid::from(pg_sys::ROLE_PG_WRITE_SERVER_FILES),
            );
        if !allowed {
            return Err(GnError::new(
                Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
                "must be superuser or have privileges of the pg_write_server_files role to COPY to a file",
            )
            .hint("Anyone can COPY to stdout or stdin. psql's \\copy command also works for anyone."));
        }
        let name = CStr::from_ptr((*copy).filename)
            .to_string_lossy()
            .into_owned();
        file_target(Path::new(&name))?
    };

    // the raw statement: the COPY's query, or SELECT * FROM its table
    let (raw, text): (*mut pg_sys::RawStmt, *const std::ffi::c_char);
    let owned_text: CString;
    if !(*copy).query.is_null() {
        let r = pg_sys::palloc0(std::mem::size_of::<pg_sys::RawStmt>()) as *mut pg_sys::RawStmt;
        (*r).type_ = pg_sys::NodeTag::T_RawStmt;
        (*r).stmt = (*copy).query;
        (*r).stmt_location = (*pstmt).stmt_location;
        (*r).stmt_len = (*pstmt).stmt_len;
        raw = r;
        text = query_string;
    } else {
        owned_text = CString::new(select_of_table(copy)).expect("no NUL in identifiers");
        let list = pg_sys::raw_parser(owned_text.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT);
        raw = PgList::<pg_sys::RawStmt>::from_pg(list)
            .get_ptr(0)
            .expect("one statement");
        text = owned_text.as_ptr();
    }

    let pg = if format == CopyFormat::Raw {
        None
    } else {
        // our own lookups never see what the session's search_path would plant
        let _path = GucScope::pinned_search_path();
        Postgis::lookup()?
    };
    let rewritten = pg_sys::pg_analyze_and_rewrite_fixedparams(
        raw,
        text,
        std::ptr::null_mut(),
        0,
        std::ptr::null_mut(),
    );
    let queries = PgList::<pg_sys::Query>::from_pg(rewritten);
    let query = match queries.get_ptr(0) {
        Some(q)
            if queries.len() == 1
                && (*q).commandType == pg_sys::CmdType::CMD_SELECT
                && (*q).utilityStmt.is_null() =>
        {
            q
        }
        _ => {
            return Err(GnError::new(
                Code::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "COPY with FORMAT {} needs a single SELECT query",
                    format.name()
                ),
            ))
        }
    };
    if format == CopyFormat::Raw {
        let call = {
            let _path = GucScope::pinned_search_path();
            run_call(query)?
        };
        if let Some(call) = call {
            return copy_run(call, target);
        }
    }
    let plan = pg_sys::pg_plan_query(query, text, pg_sys::CURSOR_OPT_PARALLEL_OK as i32, params);

    let row_cxt = pg_sys::AllocSetContextCreateInternal(
        pg_sys::CurrentMemoryContext,
        c"gn_export COPY row".as_ptr(),
        0,
        8 * 1024,
        8 * 1024 * 1024,
    );
    let to_file = target.is_file();
    let mut state = Box::new(State {
        req,
        postgis: pg,
        cols: Vec::new(),
        encoder: None,
        out: Vec::with_capacity(FLUSH_AT * 2),
        target,
        rows: 0,
        bytes: 0,
        row_cxt,
        progress: Progress::start(Oid::INVALID, to_file),
    });
    let mut receiver = Box::new(Receiver {
        base: pg_sys::DestReceiver {
            receiveSlot: Some(r_receive),
            rStartup: Some(r_startup),
            rShutdown: Some(r_shutdown),
            rDestroy: Some(r_destroy),
            mydest: pg_sys::CommandDest::DestCopyOut,
        },
        state: state.as_mut(),
    });

    pg_sys::PushCopiedSnapshot(pg_sys::GetActiveSnapshot());
    pg_sys::UpdateActiveSnapshotCommandId();
    let qd = pg_sys::CreateQueryDesc(
        plan,
        text,
        pg_sys::GetActiveSnapshot(),
        std::ptr::null_mut(),
        &mut receiver.base,
        params,
        std::ptr::null_mut(),
        0,
    );
    pg_sys::ExecutorStart(qd, 0);
    pg_sys::ExecutorRun(qd, pg_sys::ScanDirection::ForwardScanDirection, 0, true);
    pg_sys::ExecutorFinish(qd);
    pg_sys::ExecutorEnd(qd);
    pg_sys::FreeQueryDesc(qd);
    pg_sys::PopActiveSnapshot();

    if let Some(enc) = state.encoder.as_mut() {
        enc.footer(&mut state.out);
    }
    state.flush(true)?;
    drop(receiver);
    let State {
        rows,
        row_cxt,
        target,
        ..
    } = *state;
    pg_sys::MemoryContextDelete(row_cxt);
    finish_target(target)?;
    Ok(rows)
}

/// `COPY table [(col, ...)] TO ...` as the rows core COPY writes: the column list in its order
/// (every column without one), and the table's own rows only, never its children's.
///
/// # Safety
/// `copy` must be a valid CopyStmt with a relation.
unsafe fn select_of_table(copy: *mut pg_sys::CopyStmt) -> String {
    let text = |p: *const std::ffi::c_char| CStr::from_ptr(p).to_string_lossy().into_owned();
    let rv = (*copy).relation;
    let mut rel = crate::query::ident(&text((*rv).relname));
    if !(*rv).schemaname.is_null() {
        rel = format!("{}.{rel}", crate::query::ident(&text((*rv).schemaname)));
    }
    let columns: Vec<String> = PgList::<pg_sys::Node>::from_pg((*copy).attlist)
        .iter_ptr()
        .map(|n| crate::query::ident(&text((*(n as *mut pg_sys::String)).sval)))
        .collect();
    let list = if columns.is_empty() {
        "*".to_string()
    } else {
        columns.join(", ")
    };
    format!("SELECT {list} FROM ONLY {rel}")
}

/// The arguments of `gn_export.run(...)` when a COPY's query is exactly one such call with
/// constant arguments: `COPY (SELECT gn_export.run(1, 'csv', 3)) TO STDOUT WITH (FORMAT raw)`.
struct RunCall {
    id_export: i32,
    format: Option<String>,
    id_role: Option<i32>,
    token: Option<String>,
    filters: Option<serde_json::Value>,
}

/// # Safety
/// `q` must be a valid analysed Query.
unsafe fn run_call(q: *mut pg_sys::Query) -> GnResult<Option<RunCall>> {
    let plain = (*q).rtable.is_null()
        && ((*q).jointree.is_null()
            || ((*(*q).jointree).fromlist.is_null() && (*(*q).jointree).quals.is_null()))
        && (*q).sortClause.is_null()
        && (*q).groupClause.is_null()
        && (*q).limitCount.is_null()
        && (*q).limitOffset.is_null()
        && (*q).cteList.is_null();
    if !plain {
        return Ok(None);
    }
    let tl = PgList::<pg_sys::TargetEntry>::from_pg((*q).targetList);
    let Some(tle) = tl.get_ptr(0).filter(|_| tl.len() == 1) else {
        return Ok(None);
    };
    let expr = (*tle).expr as *mut pg_sys::Node;
    if expr.is_null() || (*expr).type_ != pg_sys::NodeTag::T_FuncExpr {
        return Ok(None);
    }
    let func = expr as *mut pg_sys::FuncExpr;
    let run_oid = Spi::get_one::<pg_sys::Oid>(
        "SELECT pg_catalog.to_regprocedure('gn_export.run(integer,text,integer,text,jsonb)')::oid",
    )?;
    if Some((*func).funcid) != run_oid {
        return Ok(None);
    }
    // the executor would check this before calling run(); the fast path calls no function
    if !may_execute((*func).funcid) {
        return Err(GnError::new(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied for function run",
        ));
    }
    // at this stage defaults are not filled in yet and named arguments are NamedArgExpr
    // nodes: slots left empty take run()'s defaults (all NULL, and NULL format means csv)
    let args = PgList::<pg_sys::Node>::from_pg((*func).args);
    let mut slots: [(pg_sys::Datum, bool); 5] = [(pg_sys::Datum::from(0usize), true); 5];
    for (i, a) in args.iter_ptr().enumerate() {
        let (pos, node) = if !a.is_null() && (*a).type_ == pg_sys::NodeTag::T_NamedArgExpr {
            let n = a as *mut pg_sys::NamedArgExpr;
            ((*n).argnumber as usize, (*n).arg as *mut pg_sys::Node)
        } else {
            (i, a)
        };
        if pos >= 5 || node.is_null() || (*node).type_ != pg_sys::NodeTag::T_Const {
            return Ok(None); // computed arguments: the generic path handles them
        }
        let c = node as *mut pg_sys::Const;
        slots[pos] = ((*c).constvalue, (*c).constisnull);
    }
    let consts = slots;
    let (id, isnull) = consts[0];
    let Some(id_export) = i32::from_datum(id, isnull) else {
        return Ok(None);
    };
    Ok(Some(RunCall {
        id_export,
        format: String::from_datum(consts[1].0, consts[1].1),
        id_role: i32::from_datum(consts[2].0, consts[2].1),
        token: String::from_datum(consts[3].0, consts[3].1),
        filters: crate::jsonb::Jsonb::from_datum(consts[4].0, consts[4].1)
            .map(|j| j.parse(&format!("export {id_export}: filters")))
            .transpose()?,
    }))
}

/// Whether the current user may EXECUTE a function.
fn may_execute(func: Oid) -> bool {
    // SAFETY: a privilege check by OIDs of a function that exists (the parser resolved it).
    unsafe {
        #[cfg(feature = "pg15")]
        let r = pg_sys::pg_proc_aclcheck(func, pg_sys::GetUserId(), pg_sys::ACL_EXECUTE as _);
        #[cfg(not(feature = "pg15"))]
        let r = pg_sys::object_aclcheck(
            pg_sys::ProcedureRelationId,
            func,
            pg_sys::GetUserId(),
            pg_sys::ACL_EXECUTE as _,
        );
        r == pg_sys::AclResult::ACLCHECK_OK
    }
}

/// The fast path of `COPY (SELECT gn_export.run(...)) TO ... (FORMAT raw)`: the same bytes as
/// the run() chunks, but the export's query runs at once into the encoder, so PostgreSQL may
/// plan it in parallel as it does for its own COPY (a streamed SRF never can).
/// Like run(), with `search_path = pg_catalog, pg_temp` throughout.
unsafe fn copy_run(call: RunCall, target: Target) -> GnResult<u64> {
    let _path = GucScope::pinned_search_path();
    let (name, plan, mut encoder) = super::stream::prepare(
        call.id_export,
        call.format.as_deref(),
        call.id_role,
        call.token.as_deref(),
        call.filters.as_ref(),
    )?;
    let to_file = target.is_file();
    let mut state = State {
        req: Request {
            format: CopyFormat::Raw,
            geometry: None,
            id: None,
        },
        postgis: None,
        cols: Vec::new(),
        encoder: None,
        out: Vec::with_capacity(FLUSH_AT * 2),
        target,
        rows: 0,
        bytes: 0,
        row_cxt: std::ptr::null_mut(),
        progress: Progress::start(plan.relid, to_file),
    };
    if let Target::Client(_) = state.target {
        send_copy_out_response(1);
    }
    // COPY's count is that of the SELECT: one row per non-empty chunk
    encoder.header(&mut state.out);
    let mut chunks = u64::from(!state.out.is_empty());
    crate::source::run_all(&plan, |row| {
        encoder
            .row(row, &mut state.out)
            .map_err(|e| super::encode_error(&name, e))?;
        state.rows += 1;
        chunks += 1;
        state.flush(false)
    })?;
    let before = state.out.len();
    encoder.footer(&mut state.out);
    chunks += u64::from(state.out.len() > before);
    state.flush(true)?;
    let State { target, .. } = state;
    finish_target(target)?;
    Ok(chunks)
}

/// Where `COPY ... TO 'path'` writes: a device or a FIFO in place, anything else through a
/// temporary file in the same directory, renamed over the name at the end. Like core COPY, the
/// path is the privileged caller's choice, so links in it are followed.
fn file_target(path: &Path) -> GnResult<Target> {
    if !path.is_absolute() {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_NAME,
            "relative path not allowed for COPY to file",
        ));
    }
    if let Ok(m) = std::fs::metadata(path) {
        if !m.is_file() && !m.is_dir() {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| io_error(&format!("cannot open {}", path.display()), e))?;
            return Ok(Target::Device(BufWriter::with_capacity(1 << 18, file)));
        }
    }
    let dir = Dir::open(path.parent().unwrap_or(Path::new("/")))?;
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Target::File(dir.create_temp(&name)?, name))
}

/// CopyOutResponse: text format, `natts` columns, all text.
unsafe fn send_copy_out_response(natts: u16) {
    let mut buf: pg_sys::StringInfoData = std::mem::zeroed();
    pg_sys::pq_beginmessage(&mut buf, b'H' as std::ffi::c_char);
    pg_sys::pq_sendbyte(&mut buf, 0);
    pg_sys::pq_sendint16(&mut buf, natts);
    for _ in 0..natts {
        pg_sys::pq_sendint16(&mut buf, 0);
    }
    pg_sys::pq_endmessage(&mut buf);
}

/// Ends the COPY: CopyDone to the client, or the file published.
unsafe fn finish_target(target: Target) -> GnResult<()> {
    match target {
        Target::Client(buf) => {
            pg_sys::pfree(buf.data.cast());
            pg_sys::pq_putemptymessage(b'c' as std::ffi::c_char);
        }
        Target::File(t, name) => {
            t.publish(&name)?;
        }
        Target::Device(w) => {
            w.into_inner()
                .map_err(|e| io_error("cannot write to the COPY target", e.into_error()))?;
        }
    }
    Ok(())
}
