//! PostGIS's functions, looked up once per query and called row by row with cached function
//! info: the feature geometry (linearised, M dropped, in the target SRID, as WKB) and WKT.

use pgrx::pg_sys::{self, Datum, Oid};

/// The OIDs of the PostGIS functions used on geometry values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Postgis {
    pub geometry: Oid,
    zmflag: Oid,
    force_2d: Oid,
    force_3dz: Oid,
    as_binary: Oid,
    pub(super) as_text: Oid,
    srid: Oid,
    set_srid: Oid,
    transform: Oid,
    has_arc: Oid,
    curve_to_line: Oid,
}

impl Postgis {
    /// PostGIS's geometry type and functions, wherever PostGIS is installed; None without it.
    pub fn lookup() -> crate::error::GnResult<Option<Postgis>> {
        use pgrx::prelude::*;
        Spi::connect(|client| {
            let rows = client.select(
                "SELECT t.oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_asbinary(%I.geometry)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_astext(%I.geometry)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_srid(%I.geometry)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_transform(%I.geometry,integer)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_hasarc(%I.geometry)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_curvetoline(%I.geometry,float8,integer,integer)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_zmflag(%I.geometry)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_force2d(%I.geometry)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_force3dz(%I.geometry,float8)', n.nspname, n.nspname))::oid,
                        pg_catalog.to_regprocedure(pg_catalog.format('%I.st_setsrid(%I.geometry,integer)', n.nspname, n.nspname))::oid
                   FROM pg_catalog.pg_extension e
                   JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                   JOIN pg_catalog.pg_type t ON t.typnamespace = n.oid AND t.typname = 'geometry'
                  WHERE e.extname = 'postgis'",
                Some(1),
                &[],
            )?;
            let Some(r) = rows.into_iter().next() else {
                return Ok(None);
            };
            let o = |i: usize| -> crate::error::GnResult<Oid> {
                Ok(r.get::<Oid>(i)?.unwrap_or(Oid::INVALID))
            };
            Ok(Some(Postgis {
                geometry: o(1)?,
                as_binary: o(2)?,
                as_text: o(3)?,
                srid: o(4)?,
                transform: o(5)?,
                has_arc: o(6)?,
                curve_to_line: o(7)?,
                zmflag: o(8)?,
                force_2d: o(9)?,
                force_3dz: o(10)?,
                set_srid: o(11)?,
            }))
        })
    }
}

/// A function looked up once. Keeping its FmgrInfo lets PostGIS keep its per-call caches
/// (PROJ transformations in fn_extra) from one row to the next.
pub struct Fn1 {
    finfo: Box<pg_sys::FmgrInfo>,
}

impl Fn1 {
    pub(super) fn new(func: Oid) -> Fn1 {
        // SAFETY: fmgr_info_cxt fills the FmgrInfo we own (or raises an ERROR for an unknown
        // function); extra state goes to the current memory context, which outlives its use.
        unsafe {
            let mut finfo: Box<pg_sys::FmgrInfo> = Box::new(std::mem::zeroed());
            pg_sys::fmgr_info_cxt(func, finfo.as_mut(), pg_sys::CurrentMemoryContext);
            Fn1 { finfo }
        }
    }

    fn ptr(&self) -> *mut pg_sys::FmgrInfo {
        &*self.finfo as *const pg_sys::FmgrInfo as *mut pg_sys::FmgrInfo
    }

    /// # Safety
    /// `a` must be a valid argument of the function; the result is in the current context.
    pub(super) unsafe fn call1(&self, a: Datum) -> Datum {
        // SAFETY: the caller upholds this function's # Safety contract, which is what the
        // calls below need.
        unsafe { pg_sys::FunctionCall1Coll(self.ptr(), Oid::INVALID, a) }
    }

    /// # Safety
    /// as `call1`
    unsafe fn call2(&self, a: Datum, b: Datum) -> Datum {
        // SAFETY: the caller upholds this function's # Safety contract, which is what the
        // calls below need.
        unsafe { pg_sys::FunctionCall2Coll(self.ptr(), Oid::INVALID, a, b) }
    }

    /// # Safety
    /// as `call1`
    unsafe fn call4(&self, a: Datum, b: Datum, c: Datum, d: Datum) -> Datum {
        // SAFETY: the caller upholds this function's # Safety contract, which is what the
        // calls below need.
        unsafe { pg_sys::FunctionCall4Coll(self.ptr(), Oid::INVALID, a, b, c, d) }
    }
}

/// What turns a geometry into the feature geometry of a GeoJSON or GeoPackage: linearised,
/// in the target SRID (EPSG:4326, or the GeoPackage layer's), as WKB.
pub struct FeatureFns {
    has_arc: Fn1,
    curve_to_line: Fn1,
    srid: Fn1,
    set_srid: Fn1,
    transform: Fn1,
    as_binary: Fn1,
    /// the SRID every row ends in (0: rows are taken as they are)
    target: i32,
    /// the SRID of rows stored with SRID 0 (the export's geometry_srid)
    default_srid: i32,
    /// GeoPackage: drop M, which a geometry column declared `m = 0` cannot hold
    drop_m: Option<(Fn1, Fn1, Fn1)>,
}

impl FeatureFns {
    pub fn new(p: &Postgis, target: FeatureSrid) -> FeatureFns {
        FeatureFns {
            has_arc: Fn1::new(p.has_arc),
            curve_to_line: Fn1::new(p.curve_to_line),
            srid: Fn1::new(p.srid),
            set_srid: Fn1::new(p.set_srid),
            transform: Fn1::new(p.transform),
            as_binary: Fn1::new(p.as_binary),
            target: target.target,
            default_srid: target.default,
            drop_m: target.drop_m.then(|| {
                (
                    Fn1::new(p.zmflag),
                    Fn1::new(p.force_2d),
                    Fn1::new(p.force_3dz),
                )
            }),
        }
    }

    /// The WKB of the feature geometry, or what PostGIS said when it could not transform it.
    ///
    /// # Safety
    /// `d` must be a valid geometry datum.
    pub(super) unsafe fn wkb(&self, d: Datum) -> Result<Datum, String> {
        // SAFETY: each step takes a valid geometry datum (the caller's, then the previous
        // step's result) and returns one; ST_AsBinary returns a bytea
        unsafe {
            let d = self.linear(d);
            let d = self.without_m(d);
            let d = self.in_target(d)?;
            Ok(self.as_binary.call1(d))
        }
    }

    /// Curves as their linear approximation (32 segments per quarter circle).
    ///
    /// # Safety
    /// `d` must be a valid geometry datum.
    unsafe fn linear(&self, d: Datum) -> Datum {
        // SAFETY: the caller's contract; both functions take a geometry
        unsafe {
            if self.has_arc.call1(d).value() == 0 {
                return d;
            }
            let segments = Datum::from(32.0f64.to_bits() as usize);
            self.curve_to_line
                .call4(d, segments, Datum::from(0usize), Datum::from(0usize))
        }
    }

    /// M dropped, where the format says so (Z kept).
    ///
    /// # Safety
    /// `d` must be a valid geometry datum.
    unsafe fn without_m(&self, d: Datum) -> Datum {
        let Some((zmflag, force_2d, force_3dz)) = &self.drop_m else {
            return d;
        };
        // SAFETY: the caller's contract; the three functions take a geometry
        unsafe {
            match zmflag.call1(d).value() as i16 {
                1 => force_2d.call1(d),
                3 => force_3dz.call2(d, Datum::from(0.0f64.to_bits() as usize)),
                _ => d,
            }
        }
    }

    /// In the target SRID, when there is one: rows without SRID are taken to be in the
    /// export's (an unconstrained column may hold them), others are transformed from theirs.
    ///
    /// # Safety
    /// `d` must be a valid geometry datum.
    unsafe fn in_target(&self, mut d: Datum) -> Result<Datum, String> {
        if self.target == 0 {
            return Ok(d);
        }
        // SAFETY: the caller's contract; ST_SRID and ST_SetSRID take a geometry
        let mut srid = unsafe { self.srid.call1(d).value() as i32 };
        if srid == 0 && self.default_srid != 0 {
            let default = Datum::from(self.default_srid as usize);
            // SAFETY: as above
            d = unsafe { self.set_srid.call2(d, default) };
            srid = self.default_srid;
        }
        if srid != 0 && srid != self.target {
            // SAFETY: as above
            d = unsafe { self.transformed(d)? };
        }
        Ok(d)
    }

    /// ST_Transform to the target, its failure (an unknown SRID, a point outside the
    /// projection's domain) caught as a message: the encoder raises it with the row's key.
    ///
    /// # Safety
    /// `d` must be a valid geometry datum.
    unsafe fn transformed(&self, d: Datum) -> Result<Datum, String> {
        // SAFETY: a read of this backend's global
        let cxt = unsafe { pg_sys::CurrentMemoryContext };
        let target = Datum::from(self.target as usize);
        // SAFETY: the caller's contract; ST_Transform takes a geometry and an SRID
        pgrx::PgTryBuilder::new(|| Ok(unsafe { self.transform.call2(d, target) }))
            .catch_others(|e| {
                // SAFETY: back to the context the call began in, as PL/pgSQL does after an error
                unsafe { pg_sys::CurrentMemoryContext = cxt };
                Err(format!(
                    "its geometry cannot be transformed to EPSG:{}: {}",
                    self.target,
                    crate::subxact::report(&e).message()
                ))
            })
            .execute()
    }
}

/// Where feature geometries end up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeatureSrid {
    /// the SRID of the output (4326 for GeoJSON, the layer's for a GeoPackage; 0: as stored)
    pub target: i32,
    /// the SRID given to rows stored with SRID 0 (0: none known, they are taken as stored)
    pub default: i32,
    pub drop_m: bool,
}
