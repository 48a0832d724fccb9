//! The export catalog (`gn_exports`): its bootstrap SQL and the validation of one definition.

mod definition;

// Created after the functions it calls (check_definition), so it is listed as their dependant.
pgrx::extension_sql_file!(
    "../../sql/catalog.sql",
    name = "catalog",
    requires = [definition::check_definition_sql]
);
