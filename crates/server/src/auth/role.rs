//! Roles: what a signed-in person may do (the contract's [`Role`]: the wire and the database
//! use the same lowercase names).

pub(crate) use blindvault_api::sessions::Role;
