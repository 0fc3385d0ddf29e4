//! Understanding texts, locally and deterministically (no language model anywhere): carrier
//! keywords, safety phrases and answers to choice questions. Pure functions, so every rule is
//! table-tested; the conversation code decides what to do with the result.

pub mod answers;
pub mod keywords;
pub mod normalize;
pub mod registration;
pub mod safety;
pub mod when;
