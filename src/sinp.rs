//! The SINP views of GeoNature's Synthese, made by the DBA's call, never by CREATE EXTENSION
//! (they are the database's, owned by their creator): the diffusion rule
//! (`install_diffusion_view()`: what may be published of each observation's location), and the
//! two views that publish through it, Darwin Core for archives (`install_dwc_view()`) and
//! GeoNature's RDF view for `dsw()` (`install_dsw_view()`). SQL only; docs/security.md, "Sensitive
//! observations".

pgrx::extension_sql_file!("../sql/diffusion_view.sql", name = "diffusion_view");
pgrx::extension_sql_file!(
    "../sql/dwc_view.sql",
    name = "dwc_view",
    requires = ["diffusion_view"]
);
pgrx::extension_sql_file!(
    "../sql/dsw_view.sql",
    name = "dsw_view",
    requires = ["diffusion_view"]
);
