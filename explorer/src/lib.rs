//! The Computronium explorer: a web UI served by axum over the indexer's API.
//!
//! Status: not implemented yet. This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
