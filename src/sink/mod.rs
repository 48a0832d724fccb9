//! Where the bytes go. One row pump (`pump`) feeds every byte stream: the run() chunk queue
//! (`stream`), the COPY protocol and COPY's server files (`copy`, the hook), the temporary
//! file that generate() publishes (`dir`, at the place `target` names), and an API page.

pub mod commit;
pub mod compress;
pub mod copy;
pub mod dir;
pub mod names;
pub mod pump;
pub mod stream;
pub mod target;
