//! The Computronium indexer: follows L2 and L1, stores in redb and serves a JSON API.
//!
//! Status: not implemented yet. This crate is an empty, documented placeholder so that the
//! workspace layout of DESIGN.md exists; it exports nothing and nothing depends on it working.
