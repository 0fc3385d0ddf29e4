//! SQL, in small functions that take the caller's transaction (the use case owns begin/commit).

pub mod admin;
pub mod claim;
pub mod erasure;
pub mod jobs;
pub mod sent;
pub mod state;
pub mod statuses;
pub mod views;

#[cfg(test)]
mod plans;
