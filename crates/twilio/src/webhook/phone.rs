//! Phone numbers that never print in full.

use std::fmt;

/// A phone number (or channel address) shown with all but its first two and last two characters
/// masked, e.g. `+1*******00`; four characters or fewer are masked entirely.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MaskedPhone<'a>(pub &'a str);

impl fmt::Display for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.chars().count();
        for (i, c) in self.0.chars().enumerate() {
            let shown = count > 4 && (i < 2 || i + 2 >= count);
            if shown {
                fmt::Write::write_char(f, c)?;
            } else {
                f.write_str("*")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A phone number or channel address as Twilio sent it (`+14155550100`, `whatsapp:+1...`, or a
/// short code). `Debug` masks it; read it with [`Phone::as_str`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(pub(super) String);

impl Phone {
    /// The number as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes it into the number as sent.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The masked form, for logs.
    pub fn masked(&self) -> MaskedPhone<'_> {
        MaskedPhone(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.masked(), f)
    }
}
