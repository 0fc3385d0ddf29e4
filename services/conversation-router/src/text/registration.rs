//! Registration answers over SMS (product-rules §2): names, birthday (18+ only) and ZIP code.

use time::{Date, Month};

/// Why an answer was not accepted; each maps to a short re-ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// Not a plausible name.
    #[error("not a name")]
    Name,
    /// Not a date we can read.
    #[error("not a date")]
    Date,
    /// A date in the future or implausibly long ago.
    #[error("not a real birthday")]
    ImplausibleDate,
    /// Under 18.
    #[error("under 18")]
    Underage,
    /// Not a 5-digit ZIP code.
    #[error("not a ZIP code")]
    Zip,
}

/// A first or last name: 1–40 letters (any script), spaces, hyphens, apostrophes or dots;
/// trimmed, inner spaces collapsed, first letter capitalised.
pub fn name(text: &str) -> Result<String, RegistrationError> {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = collapsed.chars().count();
    let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.');
    if len == 0
        || len > 40
        || !collapsed.chars().all(allowed)
        || !collapsed.chars().any(char::is_alphabetic)
    {
        return Err(RegistrationError::Name);
    }
    let mut chars = collapsed.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    Ok(first + chars.as_str())
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A birthday in a common US form — `5/17/1990`, `05-17-1990`, `1990-05-17`, `May 17 1990`,
/// `17 May 1990`, `5/17/90` — for someone at least 18 on `today`.
pub fn birthday(text: &str, today: Date) -> Result<Date, RegistrationError> {
    let date = parse_date(text, today).ok_or(RegistrationError::Date)?;
    if date > today || today.year() - date.year() > 120 {
        return Err(RegistrationError::ImplausibleDate);
    }
    if age_on(date, today) < 18 {
        return Err(RegistrationError::Underage);
    }
    Ok(date)
}

/// Whole years between `birthday` and `today`.
pub fn age_on(birthday: Date, today: Date) -> i32 {
    let had_birthday =
        (today.month() as u8, today.day()) >= (birthday.month() as u8, birthday.day());
    today.year() - birthday.year() - i32::from(!had_birthday)
}

fn parse_date(text: &str, today: Date) -> Option<Date> {
    let lower = text.trim().to_lowercase().replace(',', " ");
    let parts: Vec<&str> = lower
        .split(|c: char| c == '/' || c == '-' || c == '.' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let month_name = |s: &str| MONTHS.iter().position(|m| s.starts_with(m)).map(|i| i + 1);
    let (year, month, day) = if a.len() == 4 {
        (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?)
    } else if let Some(m) = month_name(a) {
        (full_year(c, today)?, m, b.parse().ok()?)
    } else if let Some(m) = month_name(b) {
        (full_year(c, today)?, m, a.parse().ok()?)
    } else {
        (full_year(c, today)?, a.parse().ok()?, b.parse().ok()?)
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// A 4-digit year, or a 2-digit one read as the most recent past year ending in those digits.
fn full_year(text: &str, today: Date) -> Option<i32> {
    let n: i32 = text.parse().ok()?;
    match text.len() {
        4 => Some(n),
        2 => {
            let century = today.year() / 100 * 100;
            Some(if century + n > today.year() {
                century - 100 + n
            } else {
                century + n
            })
        }
        _ => None,
    }
}

/// A US ZIP code: 5 digits, or ZIP+4 (kept as the 5).
pub fn zip(text: &str) -> Result<String, RegistrationError> {
    let t = text.trim();
    let five = t.split('-').next().unwrap_or_default();
    let plus_four_ok =
        t.len() == 5 || (t.len() == 10 && t[6..].chars().all(|c| c.is_ascii_digit()));
    if five.len() == 5 && five.chars().all(|c| c.is_ascii_digit()) && plus_four_ok {
        Ok(five.to_owned())
    } else {
        Err(RegistrationError::Zip)
    }
}

/// Whether the answer to the consent step agrees.
pub fn agrees(text: &str) -> bool {
    matches!(
        super::normalize::words(text).as_str(),
        "agree" | "i agree" | "agreed" | "yes i agree"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 22);

    #[test]
    fn names() {
        assert_eq!(name("  maria  "), Ok("Maria".to_owned()));
        assert_eq!(name("jean-luc"), Ok("Jean-luc".to_owned()));
        assert_eq!(name("O'Brien"), Ok("O'Brien".to_owned()));
        assert_eq!(name("José  María"), Ok("José María".to_owned()));
        assert_eq!(name("Zoë"), Ok("Zoë".to_owned()));
        for bad in ["", "   ", "12345", "r2d2", "👍", "-", &"a".repeat(41)] {
            assert_eq!(name(bad), Err(RegistrationError::Name), "{bad:?}");
        }
    }

    #[test]
    fn birthdays_in_common_forms() {
        for text in [
            "5/17/1990",
            "05-17-1990",
            "1990-05-17",
            "May 17 1990",
            "may 17, 1990",
            "17 May 1990",
            "5/17/90",
            "5.17.1990",
        ] {
            assert_eq!(birthday(text, TODAY), Ok(date!(1990 - 05 - 17)), "{text:?}");
        }
        assert_eq!(birthday("13/45/1990", TODAY), Err(RegistrationError::Date));
        assert_eq!(birthday("yesterday", TODAY), Err(RegistrationError::Date));
        assert_eq!(
            birthday("1/1/2030", TODAY),
            Err(RegistrationError::ImplausibleDate)
        );
        assert_eq!(
            birthday("1/1/1890", TODAY),
            Err(RegistrationError::ImplausibleDate)
        );
    }

    #[test]
    fn eighteen_is_counted_to_the_day() {
        assert_eq!(
            birthday("11/22/2008", TODAY),
            Ok(date!(2008 - 11 - 22)),
            "18 today"
        );
        assert_eq!(
            birthday("11/23/2008", TODAY),
            Err(RegistrationError::Underage),
            "18 tomorrow"
        );
        assert_eq!(
            birthday("2/29/2008", date!(2026 - 02 - 28)),
            Err(RegistrationError::Underage)
        );
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 03 - 01)), 18);
    }

    #[test]
    fn zip_codes() {
        assert_eq!(zip(" 94110 "), Ok("94110".to_owned()));
        assert_eq!(zip("94110-1234"), Ok("94110".to_owned()));
        for bad in ["9411", "941100", "94a10", "", "94110-12"] {
            assert_eq!(zip(bad), Err(RegistrationError::Zip), "{bad:?}");
        }
    }

    #[test]
    fn agreeing() {
        assert!(agrees("AGREE"));
        assert!(agrees("I agree."));
        assert!(!agrees("I don't agree"));
        assert!(!agrees("no"));
    }
}
