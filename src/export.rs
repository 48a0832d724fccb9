//! One export definition, as facts: the catalog's row (`gn_exports.t_exports` with its licence),
//! which `catalog::export::load` reads and every floor below may look at.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub id: i32,
    pub label: String,
    pub description: Option<String>,
    pub schema_name: String,
    pub view_name: String,
    pub geometry_field: Option<String>,
    pub geometry_srid: Option<i32>,
    pub public: bool,
    pub view_pk_column: String,
    pub licence_name: Option<String>,
    pub licence_url: Option<String>,
}

impl Export {
    /// How messages name an export: its label and id.
    pub fn name(&self) -> String {
        format!("export \"{}\" (id {})", self.label, self.id)
    }
}

/// GeoNature stores "no geometry" as NULL; an empty or blank field means the same.
pub fn geometry_field(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}
