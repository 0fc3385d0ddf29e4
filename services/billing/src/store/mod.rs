//! SQL, in small functions over the caller's connection or transaction (the use case owns
//! begin/commit).

pub mod admin;
pub mod customers;
pub mod entitlements;
pub mod erasure;
pub mod events;
pub mod subscriptions;
pub mod users;
