//! Validation of a Messages create, with the error codes Twilio answers.

use crate::resource::ApiError;

/// Longest body Twilio accepts, in characters.
const MAX_BODY_CHARS: usize = 1600;

/// A create request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateRequest {
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub status_callback: Option<String>,
    pub validity_period: Option<u32>,
    pub media_urls: Vec<String>,
}

/// The first value of `name`, if present and not empty.
fn first<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

/// `+` and 2 to 15 digits, not starting with 0.
pub(crate) fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// `From` and `MessagingServiceSid`: at least one, each well-formed.
fn sender<'a>(
    form: &'a [(String, String)],
    to: &str,
) -> Result<(Option<&'a str>, Option<&'a str>), ApiError> {
    let from = first(form, "From");
    let service = first(form, "MessagingServiceSid");
    if from.is_none() && service.is_none() {
        return Err(ApiError::new(
            400,
            21603,
            "A 'From' phone number is required.",
        ));
    }
    if let Some(from) = from.filter(|f| !is_e164(f) || *f == to) {
        return Err(ApiError::new(
            400,
            21606,
            format!(
                "The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account."
            ),
        ));
    }
    if let Some(service) = service.filter(|s| !is_sid(s, "MG")) {
        return Err(ApiError::new(
            400,
            21701,
            format!("The Messaging Service Sid {service} is invalid."),
        ));
    }
    Ok((from, service))
}

/// Checks the form as Twilio does: 21604 no To, 21211 bad To, 21603 no sender, 21606 bad From,
/// 21701 bad Messaging Service, 21602 no Body (and no media), 21617 body too long, 21624 bad
/// ValidityPeriod.
pub(crate) fn create_request(form: &[(String, String)]) -> Result<CreateRequest, ApiError> {
    let to = first(form, "To")
        .ok_or_else(|| ApiError::new(400, 21604, "A 'To' phone number is required."))?;
    if !is_e164(to) {
        return Err(ApiError::new(
            400,
            21211,
            format!("Invalid 'To' Phone Number: {to}"),
        ));
    }
    let (from, service) = sender(form, to)?;
    let media_urls: Vec<String> = form
        .iter()
        .filter(|(key, value)| key == "MediaUrl" && !value.is_empty())
        .map(|(_, value)| value.clone())
        .collect();
    let body = first(form, "Body").unwrap_or_default();
    if body.is_empty() && media_urls.is_empty() && first(form, "ContentSid").is_none() {
        return Err(ApiError::new(400, 21602, "Message body is required."));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::new(
            400,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }
    let validity_period = match first(form, "ValidityPeriod") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .ok()
                .filter(|secs| (1..=36_000).contains(secs))
                .ok_or_else(|| ApiError::new(400, 21624, "Invalid validity period value"))?,
        ),
    };
    Ok(CreateRequest {
        to: to.to_owned(),
        from: from.map(str::to_owned),
        messaging_service_sid: service.map(str::to_owned),
        body: body.to_owned(),
        status_callback: first(form, "StatusCallback").map(str::to_owned),
        validity_period,
        media_urls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn code(pairs: &[(&str, &str)]) -> Option<u32> {
        create_request(&form(pairs)).err().and_then(|e| e.code)
    }

    #[test]
    fn twilios_validation_codes() {
        let ok = [
            ("To", "+15555550100"),
            ("From", "+15005550006"),
            ("Body", "hi"),
        ];
        assert_eq!(code(&ok), None);
        assert_eq!(code(&ok[1..]), Some(21604));
        assert_eq!(code(&[("To", "5555550100"), ok[1], ok[2]]), Some(21211));
        assert_eq!(code(&[ok[0], ok[2]]), Some(21603));
        assert_eq!(code(&[ok[0], ("From", "josh"), ok[2]]), Some(21606));
        assert_eq!(code(&[ok[0], ("From", "+15555550100"), ok[2]]), Some(21606));
        assert_eq!(
            code(&[ok[0], ("MessagingServiceSid", "MG12"), ok[2]]),
            Some(21701)
        );
        assert_eq!(code(&ok[..2]), Some(21602));
        let long = "a".repeat(1601);
        assert_eq!(code(&[ok[0], ok[1], ("Body", &long)]), Some(21617));
        assert_eq!(
            code(&[ok[0], ok[1], ok[2], ("ValidityPeriod", "0")]),
            Some(21624)
        );
        assert_eq!(
            code(&[ok[0], ok[1], ("MediaUrl", "https://x.test/a.png")]),
            None
        );
    }

    #[test]
    fn e164() {
        assert!(is_e164("+15555550100"));
        assert!(!is_e164("+05555550100"));
        assert!(!is_e164("+1555 555"));
        assert!(!is_e164("15555550100"));
    }
}
