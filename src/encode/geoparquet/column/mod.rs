//! A Parquet column of an export: its type from the view column's PostgreSQL type, and a
//! row group's worth of its values, converted as rows arrive and written when the group is
//! full. Pure (no database), unit-tested.

use crate::encode::datetime;
use crate::encode::value::write_text;
use crate::encode::Value;
use crate::relation::{ColumnType, ViewColumn};
use bytes::Bytes;
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::errors::Result as PqResult;
use parquet::schema::types::Type;
use std::sync::Arc;

/// Microseconds and days between PostgreSQL's epoch (2000-01-01) and Unix's (1970-01-01).
const EPOCH_DAYS: i32 = 10_957;
const EPOCH_MICROS: i64 = 946_684_800_000_000;

/// How a PostgreSQL type is stored (see docs/formats.md, GeoParquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// days since 1970-01-01
    Date,
    /// microseconds since 1970-01-01, local (timestamp) or UTC (timestamptz)
    Timestamp {
        utc: bool,
    },
    /// UTF-8 text: text, numeric (its exact digits), uuid (canonical), time (ISO 8601),
    /// interval (ISO 8601), json and jsonb (their text), every other type in PostgreSQL's text
    /// form, and geometries other than the feature's as WKT. Not Parquet's UUID, TIME or JSON
    /// logical types: pyarrow reads the first and the last as extension types that
    /// data.gouv.fr's analysis (udata-hydra) refuses, with the whole file, and so it refuses
    /// TIME; polars fails on UUID, GDAL shows it as a blob and QGIS shows TIME as an integer.
    Text,
    Binary,
    /// the feature geometry, ISO WKB
    Wkb,
}

impl Kind {
    /// How values of a column's (base or element) type are stored.
    fn of_type(ty: ColumnType) -> Kind {
        match ty {
            ColumnType::Bool => Kind::Bool,
            ColumnType::Int2 => Kind::Int16,
            ColumnType::Int4 => Kind::Int32,
            ColumnType::Int8 => Kind::Int64,
            ColumnType::Float4 => Kind::Float32,
            ColumnType::Float8 => Kind::Float64,
            ColumnType::Date => Kind::Date,
            ColumnType::Timestamp => Kind::Timestamp { utc: false },
            ColumnType::TimestampTz => Kind::Timestamp { utc: true },
            ColumnType::Bytea => Kind::Binary,
            ColumnType::Time
            | ColumnType::Uuid
            | ColumnType::Json
            | ColumnType::Numeric
            | ColumnType::Text
            | ColumnType::TimeTz
            | ColumnType::Interval
            | ColumnType::Geometry
            | ColumnType::Geography
            | ColumnType::Other => Kind::Text,
        }
    }

    fn physical(self) -> (Physical, Option<LogicalType>) {
        match self {
            Kind::Bool => (Physical::BOOLEAN, None),
            Kind::Int16 => (Physical::INT32, Some(LogicalType::integer(16, true))),
            Kind::Int32 => (Physical::INT32, None),
            Kind::Int64 => (Physical::INT64, None),
            Kind::Float32 => (Physical::FLOAT, None),
            Kind::Float64 => (Physical::DOUBLE, None),
            Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
            Kind::Timestamp { utc } => (
                Physical::INT64,
                Some(LogicalType::timestamp(utc, TimeUnit::MICROS)),
            ),
            Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            Kind::Binary | Kind::Wkb => (Physical::BYTE_ARRAY, None),
        }
    }
}

/// A column's kind, and whether it is a list (a one-dimensional array). A list of dates or
/// timestamps is a list of their ISO 8601 texts: GDAL (QGIS's reader, 3.13 still) ignores
/// the whole column otherwise ("unhandled type list<element: date32[day]>"), where it lists
/// strings.
pub fn kind_of(c: &ViewColumn, feature: bool) -> (Kind, bool) {
    if feature {
        return (Kind::Wkb, false);
    }
    match Kind::of_type(c.ty) {
        Kind::Date | Kind::Timestamp { .. } if c.array => (Kind::Text, true),
        kind => (kind, c.array),
    }
}

/// The Parquet field of a column: optional, or a standard 3-level LIST of optional elements.
pub fn field(name: &str, kind: Kind, list: bool) -> PqResult<Arc<Type>> {
    let (physical, logical) = kind.physical();
    let leaf = Arc::new(
        Type::primitive_type_builder(if list { "element" } else { name }, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()?,
    );
    if !list {
        return Ok(leaf);
    }
    let repeated = Type::group_type_builder("list")
        .with_repetition(Repetition::REPEATED)
        .with_fields(vec![leaf])
        .build()?;
    Ok(Arc::new(
        Type::group_type_builder(name)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(Some(LogicalType::List))
            .with_fields(vec![Arc::new(repeated)])
            .build()?,
    ))
}

/// The feature geometry's field in GeoParquet 2.0: WKB in an optional BYTE_ARRAY annotated
/// with Parquet's GEOMETRY logical type, whose `crs` is PROJJSON inline (None: OGC:CRS84).
pub fn geometry_field(name: &str, crs: Option<String>) -> PqResult<Arc<Type>> {
    Ok(Arc::new(
        Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(Some(LogicalType::geometry(crs)))
            .build()?,
    ))
}

/// The bbox covering column (GeoParquet 1.1): an optional struct of four required doubles,
/// NULL for a NULL geometry and the inverted box (+inf, +inf, -inf, -inf) for an empty one (a
/// covering must be present exactly where the geometry is).
pub fn bbox_field(name: &str) -> PqResult<Arc<Type>> {
    let leaves = ["xmin", "ymin", "xmax", "ymax"]
        .into_iter()
        .map(|n| {
            Type::primitive_type_builder(n, Physical::DOUBLE)
                .with_repetition(Repetition::REQUIRED)
                .build()
                .map(Arc::new)
        })
        .collect::<PqResult<Vec<_>>>()?;
    Ok(Arc::new(
        Type::group_type_builder(name)
            .with_repetition(Repetition::OPTIONAL)
            .with_fields(leaves)
            .build()?,
    ))
}

/// A row group's values of one column, in their physical type.
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// byte strings one after the other, and where each ends (no allocation per value)
    Bytes(Arena),
}

#[derive(Default)]
pub struct Arena {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Arena {
    fn push(&mut self, b: &[u8]) -> Result<(), String> {
        self.bytes.extend_from_slice(b);
        let end = u32::try_from(self.bytes.len())
            .map_err(|_| "a row group's values of one column exceed 4 GiB".to_string())?;
        self.ends.push(end);
        Ok(())
    }

    /// The values as the writer takes them, `CHUNK` at a time, sharing one buffer.
    fn slices(&mut self) -> (Bytes, Vec<u32>) {
        (
            Bytes::from(std::mem::take(&mut self.bytes)),
            std::mem::take(&mut self.ends),
        )
    }
}

/// Levels handed to a column writer at a time: the per-value handles of byte strings exist
/// for one chunk only.
const CHUNK: usize = 8192;

pub struct Column {
    kind: Kind,
    list: bool,
    values: Values,
    /// definition levels: 0 NULL; for lists 1 empty list, 2 NULL element, 3 element
    def: Vec<i16>,
    /// repetition levels of a list: 0 starts a row, 1 continues it
    rep: Vec<i16>,
    /// bytes buffered, to size row groups
    pub bytes: usize,
}

impl Column {
    pub fn new(kind: Kind, list: bool) -> Column {
        let values = match kind {
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Int16 | Kind::Int32 | Kind::Date => Values::I32(Vec::new()),
            Kind::Int64 | Kind::Timestamp { .. } => Values::I64(Vec::new()),
            Kind::Float32 => Values::F32(Vec::new()),
            Kind::Float64 => Values::F64(Vec::new()),
            Kind::Text | Kind::Binary | Kind::Wkb => Values::Bytes(Arena::default()),
        };
        Column {
            kind,
            list,
            values,
            def: Vec::new(),
            rep: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds a row's value; `wkb` is the feature geometry already made ISO and core-typed.
    pub fn push(&mut self, v: &Value) -> Result<(), String> {
        if !self.list {
            let present = self.scalar(v)?;
            self.def.push(i16::from(present));
            return Ok(());
        }
        match v {
            Value::Null => {
                self.def.push(0);
                self.rep.push(0);
            }
            Value::Array(items) if items.is_empty() => {
                self.def.push(1);
                self.rep.push(0);
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if matches!(item, Value::Array(_)) {
                        return Err("a multidimensional array has no Parquet list form: make it one-dimensional or JSON in the view".into());
                    }
                    let present = self.scalar(item)?;
                    self.def.push(if present { 3 } else { 2 });
                    self.rep.push(i16::from(i > 0));
                }
            }
            other => return Err(format!("expected an array, got {other:?}")),
        }
        Ok(())
    }

    /// Appends a non-NULL value; false for NULL (and for what the type cannot hold: an
    /// infinite date or timestamp).
    fn scalar(&mut self, v: &Value) -> Result<bool, String> {
        if matches!(v, Value::Null) {
            return Ok(false);
        }
        let kind = self.kind;
        let mismatch = || format!("a {kind:?} column got {v:?}");
        self.bytes += 8;
        match (&mut self.values, kind, v) {
            (Values::Bool(out), _, Value::Bool(b)) => out.push(*b),
            (Values::I32(out), Kind::Date, Value::Date(d)) => match *d {
                i32::MIN | i32::MAX => return Ok(false),
                d => out.push(d.checked_add(EPOCH_DAYS).ok_or_else(mismatch)?),
            },
            (Values::I32(out), _, Value::Int(i)) => {
                out.push(i32::try_from(*i).map_err(|_| mismatch())?)
            }
            (Values::I64(out), Kind::Int64, Value::Int(i)) => out.push(*i),
            (Values::I64(out), Kind::Timestamp { .. }, Value::Timestamp(ts)) => {
                match unix_micros(*ts, 0) {
                    Some(t) => out.push(t),
                    None => return Ok(false),
                }
            }
            (Values::I64(out), Kind::Timestamp { .. }, Value::TimestampTz(local, east)) => {
                match unix_micros(*local, *east) {
                    Some(t) => out.push(t),
                    None => return Ok(false),
                }
            }
            (Values::F32(out), _, Value::Float4(f)) => out.push(*f),
            (Values::F64(out), _, Value::Float8(f)) => out.push(*f),
            (Values::F64(out), _, Value::Float4(f)) => out.push(f64::from(*f)),
            (Values::Bytes(out), _, v) => {
                let before = out.bytes.len();
                match v {
                    Value::Text(t) | Value::Json(t) | Value::Numeric(t) => {
                        out.push(t.as_bytes())?
                    }
                    Value::Bytea(b) | Value::Wkb(b) => out.push(b)?,
                    // a timestamptz in a list of texts: in UTC, as the typed column holds it,
                    // so that the session's TimeZone never changes a published file's bytes
                    Value::TimestampTz(local, east) if !datetime::is_infinite_timestamp(*local) => {
                        let utc = local - i64::from(*east) * 1_000_000;
                        write_text(&Value::TimestampTz(utc, 0), &mut out.bytes);
                        out.push(&[])?;
                    }
                    // uuid, time, an array typed by a domain…: their text, as in CSV
                    other => {
                        write_text(other, &mut out.bytes);
                        out.push(&[])?;
                    }
                }
                self.bytes += out.bytes.len() - before;
            }
            _ => return Err(mismatch()),
        }
        Ok(true)
    }

    /// Writes the buffered values to the column's writer and empties the buffer.
    pub fn write(&mut self, w: &mut ColumnWriter<'_>) -> PqResult<()> {
        let def = Some(&self.def[..]);
        let rep = self.list.then_some(&self.rep[..]);
        match (&mut self.values, w) {
            (Values::Bool(v), ColumnWriter::BoolColumnWriter(w)) => w.write_batch(v, def, rep)?,
            (Values::I32(v), ColumnWriter::Int32ColumnWriter(w)) => w.write_batch(v, def, rep)?,
            (Values::I64(v), ColumnWriter::Int64ColumnWriter(w)) => w.write_batch(v, def, rep)?,
            (Values::F32(v), ColumnWriter::FloatColumnWriter(w)) => w.write_batch(v, def, rep)?,
            (Values::F64(v), ColumnWriter::DoubleColumnWriter(w)) => w.write_batch(v, def, rep)?,
            (Values::Bytes(a), ColumnWriter::ByteArrayColumnWriter(w)) => {
                let (bytes, ends) = a.slices();
                let max = if self.list { 3 } else { 1 };
                chunks(&self.def, &self.rep, self.list, max, |values, def, rep| {
                    let v: Vec<ByteArray> = values
                        .map(|i| ByteArray::from(bytes.slice(start(&ends, i)..ends[i] as usize)))
                        .collect();
                    w.write_batch(&v, Some(def), rep)
                })?
            }
            _ => {
                return Err(parquet::errors::ParquetError::General(
                    "column writer of another type".into(),
                ))
            }
        };
        self.clear();
        Ok(())
    }

    fn clear(&mut self) {
        match &mut self.values {
            Values::Bool(v) => v.clear(),
            Values::I32(v) => v.clear(),
            Values::I64(v) => v.clear(),
            Values::F32(v) => v.clear(),
            Values::F64(v) => v.clear(),
            Values::Bytes(a) => {
                a.bytes.clear();
                a.ends.clear();
            }
        }
        self.def.clear();
        self.rep.clear();
        self.bytes = 0;
    }
}

fn start(ends: &[u32], i: usize) -> usize {
    if i == 0 {
        0
    } else {
        ends[i - 1] as usize
    }
}

/// Calls `write` with successive chunks of about CHUNK levels (a list's chunk ends where a row
/// does) and the indices of the values they define (`max`: the level of a present value).
fn chunks(
    def: &[i16],
    rep: &[i16],
    list: bool,
    max: i16,
    mut write: impl FnMut(std::ops::Range<usize>, &[i16], Option<&[i16]>) -> PqResult<usize>,
) -> PqResult<usize> {
    let (mut at, mut value) = (0, 0);
    while at < def.len() {
        let mut end = (at + CHUNK).min(def.len());
        while list && end < def.len() && rep[end] != 0 {
            end += 1;
        }
        let present = def[at..end].iter().filter(|&&d| d == max).count();
        write(
            value..value + present,
            &def[at..end],
            list.then(|| &rep[at..end]),
        )?;
        value += present;
        at = end;
    }
    Ok(value)
}

/// Unix microseconds of a PostgreSQL timestamp (`east`: the offset of a timestamptz's local
/// time); None for the infinities.
fn unix_micros(local: i64, east: i32) -> Option<i64> {
    if datetime::is_infinite_timestamp(local) {
        return None;
    }
    local
        .checked_sub(i64::from(east) * 1_000_000)?
        .checked_add(EPOCH_MICROS)
}

#[cfg(test)]
mod tests;
