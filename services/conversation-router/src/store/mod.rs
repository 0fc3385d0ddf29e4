//! The router's SQL, in small functions that take the caller's transaction.

pub mod accounts;
pub mod admin;
pub mod arrival;
pub mod cases;
pub mod export;
pub mod identity;
pub mod linkups;
pub mod magic;
pub mod optouts;
pub mod otp;
pub mod profiles;
pub mod registrations;
pub mod safety;
pub mod sessions;
