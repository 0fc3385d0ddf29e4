//! Randomness straight from the operating system.

use rand::TryRng as _;
use rand::rngs::SysRng;

use crate::error::CryptoError;

/// Fills `dest` with bytes from the OS random number generator (`getrandom`).
///
/// # Errors
/// [`CryptoError::Rng`] if the OS generator fails.
pub(crate) fn fill_random(dest: &mut [u8]) -> Result<(), CryptoError> {
    SysRng.try_fill_bytes(dest).map_err(|_| CryptoError::Rng)
}
