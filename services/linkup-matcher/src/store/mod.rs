//! The matcher's SQL, in small functions that take the caller's transaction.

pub mod admin;
pub mod after;
pub mod candidates;
pub mod invites;
pub mod linkups;
pub mod people;
pub mod timers;
