//! The CRS of a GeoParquet geometry column as PROJJSON (GeoParquet 1.1 `crs`), made by PROJ
//! itself: PostGIS 3.3 has no PROJJSON output, but the backend already maps the PROJ library
//! PostGIS links, and PROJ's `proj_as_projjson` is the reference writer of that format.

use crate::error::{GnError, GnResult};
use crate::relation::SpatialRef;
use libloading::Library;
use pgrx::PgSqlErrorCode as Code;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::OnceLock;

/// The CRS of the feature geometry, as the `geo` metadata writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Crs {
    /// EPSG:4326 rows (x = longitude): the `crs` key is left out, which means OGC:CRS84
    Default,
    /// SRID 0: unknown, written `"crs": null` as the specification says
    Unknown,
    Projjson(serde_json::Value),
}

impl Crs {
    /// The `crs` of Parquet's GEOMETRY type (GeoParquet 2.0): absent for OGC:CRS84, PROJJSON
    /// inline otherwise, as GeoParquet 2.0 requires. Parquet cannot say that a CRS is unknown
    /// (absent means OGC:CRS84): an SRID 0 is refused (22023) rather than written as WGS 84.
    pub fn parquet_crs(&self, srid: i32, export: &str) -> GnResult<Option<String>> {
        match self {
            Crs::Default => Ok(None),
            Crs::Projjson(p) => Ok(Some(p.to_string())),
            Crs::Unknown => Err(GnError::new(
                Code::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("{export}: GeoParquet 2.0 cannot hold geometries of SRID {srid}, whose CRS is unknown"),
            )
            .hint(
                "Set the export's geometry_srid to the SRID of its data, or write GeoParquet 1.1 (SET gn_export.geoparquet_version = '1.1'), which can say the CRS is unknown.",
            )),
        }
    }
}

/// The CRS of `srid` from its definition in PostGIS's `spatial_ref_sys` (`known`), through
/// PROJ. Errors: 22023 for an SRID PostGIS does not know, 38000 when PROJ is missing or cannot
/// read the definition.
pub fn of_srid(srid: i32, known: Option<&SpatialRef>, export: &str) -> GnResult<Crs> {
    match srid {
        0 => return Ok(Crs::Unknown),
        4326 => return Ok(Crs::Default),
        _ => {}
    }
    let (auth, code, srtext) = match known {
        Some(r) => (r.auth_name.clone(), r.auth_srid, r.srtext.clone()),
        None => (None, None, None),
    };
    let mut tried = Vec::new();
    if let (Some(a), Some(c)) = (auth, code) {
        tried.push(format!("{a}:{c}"));
    }
    tried.extend(srtext.filter(|t| !t.is_empty()));
    if tried.is_empty() {
        return Err(GnError::new(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{export}: SRID {srid} is not in spatial_ref_sys: GeoParquet needs the CRS's definition"),
        ));
    }
    let mut last = String::new();
    for definition in &tried {
        match projjson(definition) {
            Ok(json) => {
                return serde_json::from_str(&json)
                    .map(Crs::Projjson)
                    .map_err(|e| proj_error(export, srid, &e.to_string()))
            }
            Err(e) => last = e,
        }
    }
    Err(proj_error(export, srid, &last))
}

fn proj_error(export: &str, srid: i32, e: &str) -> GnError {
    GnError::new(
        Code::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
        format!("{export}: PROJ cannot describe SRID {srid} as PROJJSON: {e}"),
    )
}

/// The PROJ library PostGIS links, as already mapped in this backend (RTLD_NOLOAD: never a
/// second copy, which could bind PostGIS's symbols to another PROJ), by the sonames of PROJ 6
/// (the first with PROJJSON) onwards. The caller has made PostGIS load first.
fn library() -> Result<&'static Library, String> {
    static LIB: OnceLock<Library> = OnceLock::new();
    if let Some(l) = LIB.get() {
        return Ok(l);
    }
    for soname in (15..=40).rev().map(|v| format!("libproj.so.{v}")) {
        // SAFETY: RTLD_NOLOAD only returns a handle to a library already mapped (loaded by
        // PostGIS), running no initialiser; the handle stays open for the backend's life.
        let found = unsafe {
            libloading::os::unix::Library::open(
                Some(soname.as_str()),
                libc::RTLD_NOLOAD | libc::RTLD_NOW,
            )
        };
        if let Ok(l) = found {
            return Ok(LIB.get_or_init(|| Library::from(l)));
        }
    }
    Err("PostGIS's PROJ library (libproj.so.N) is not loaded in this backend".into())
}

type ContextCreate = unsafe extern "C" fn() -> *mut c_void;
type ContextDestroy = unsafe extern "C" fn(*mut c_void);
type Create = unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void;
type Destroy = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
type AsProjjson =
    unsafe extern "C" fn(*mut c_void, *const c_void, *const *const c_char) -> *const c_char;

/// A symbol of PROJ's library.
///
/// # Safety
/// `T` must be the symbol's C signature (proj.h).
unsafe fn sym<T: Copy>(lib: &Library, name: &[u8]) -> Result<T, String> {
    // SAFETY: the caller's contract
    unsafe { lib.get::<T>(name) }
        .map(|s| *s)
        .map_err(|e| e.to_string())
}

/// PROJ's PROJJSON of a CRS definition (`EPSG:2154`, or WKT).
fn projjson(definition: &str) -> Result<String, String> {
    let lib = library()?;
    let def = CString::new(definition).map_err(|e| e.to_string())?;
    // SAFETY: these are proj.h's signatures of these symbols
    let (context_create, context_destroy, create, destroy, as_projjson) = unsafe {
        (
            sym::<ContextCreate>(lib, b"proj_context_create\0")?,
            sym::<ContextDestroy>(lib, b"proj_context_destroy\0")?,
            sym::<Create>(lib, b"proj_create\0")?,
            sym::<Destroy>(lib, b"proj_destroy\0")?,
            sym::<AsProjjson>(lib, b"proj_as_projjson\0")?,
        )
    };
    // SAFETY: a context for this call alone, destroyed below
    let ctx = unsafe { context_create() };
    if ctx.is_null() {
        return Err("proj_context_create failed".into());
    }
    // SAFETY: the context above and a NUL-terminated definition
    let pj = unsafe { create(ctx, def.as_ptr()) };
    let out = if pj.is_null() {
        Err(format!("PROJ does not know {definition}"))
    } else {
        // SAFETY: the object above; the string belongs to it and is copied before the object
        // is destroyed
        let r = unsafe {
            let s = as_projjson(ctx, pj, std::ptr::null());
            if s.is_null() {
                Err(format!("{definition} has no PROJJSON form"))
            } else {
                Ok(CStr::from_ptr(s).to_string_lossy().into_owned())
            }
        };
        // SAFETY: the object above, not used again
        unsafe { destroy(pj) };
        r
    };
    // SAFETY: the context above, not used again
    unsafe { context_destroy(ctx) };
    out
}
