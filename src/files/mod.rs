//! An export's files: their names as GeoNature makes them (`names`, with the check the catalog's
//! trigger runs on labels) and the place a generation writes and reserves (`target`).

pub mod names;
pub mod target;
