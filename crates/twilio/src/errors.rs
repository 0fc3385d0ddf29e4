//! What JOSH does about a failed send, by Twilio error code or HTTP status.

/// The response to a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// The recipient opted out at the carrier (21610): suppress the user, never retry.
    Suppress,
    /// The number cannot receive SMS (30005 unknown handset, 30006 landline or unreachable):
    /// mark it unusable, never retry.
    MarkUnusable,
    /// Transient (63018 rate limit, 30003 unreachable handset, 30008 unknown error, HTTP 429 and
    /// 5xx, timeouts): retry later with backoff.
    RetryLater,
    /// The sender itself is blocked (30007 carrier filtering, 30034 unregistered A2P number):
    /// pause the sender and alert ops.
    PauseSender,
    /// Anything else (other 4xx, invalid number, ...): fail the job now.
    Fail,
}

/// The action for a Twilio error code (from an API error body or a status callback).
pub fn action_for_code(code: u32) -> ErrorAction {
    match code {
        21610 => ErrorAction::Suppress,
        30005 | 30006 => ErrorAction::MarkUnusable,
        63018 | 30003 | 30008 | 20429 => ErrorAction::RetryLater,
        30007 | 30034 => ErrorAction::PauseSender,
        _ => ErrorAction::Fail,
    }
}

/// The action for an API call that answered `http_status` with Twilio error `code` (if the body
/// had one). The error code decides when it is one JOSH knows; otherwise 429 and 5xx retry.
pub fn action_for_response(http_status: u16, code: Option<u32>) -> ErrorAction {
    match code.map(action_for_code) {
        Some(action) if action != ErrorAction::Fail => action,
        _ if http_status == 429 || (500..600).contains(&http_status) => ErrorAction::RetryLater,
        _ => ErrorAction::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_designed_actions() {
        assert_eq!(action_for_code(21610), ErrorAction::Suppress);
        assert_eq!(action_for_code(30005), ErrorAction::MarkUnusable);
        assert_eq!(action_for_code(30006), ErrorAction::MarkUnusable);
        for code in [63018, 30003, 30008] {
            assert_eq!(action_for_code(code), ErrorAction::RetryLater, "{code}");
        }
        assert_eq!(action_for_code(30007), ErrorAction::PauseSender);
        assert_eq!(action_for_code(30034), ErrorAction::PauseSender);
        assert_eq!(action_for_code(21211), ErrorAction::Fail);
    }

    #[test]
    fn http_statuses_retry_only_when_transient() {
        assert_eq!(action_for_response(429, None), ErrorAction::RetryLater);
        assert_eq!(action_for_response(503, None), ErrorAction::RetryLater);
        assert_eq!(
            action_for_response(500, Some(20500)),
            ErrorAction::RetryLater
        );
        assert_eq!(action_for_response(400, Some(21211)), ErrorAction::Fail);
        assert_eq!(action_for_response(401, None), ErrorAction::Fail);
        assert_eq!(action_for_response(400, Some(21610)), ErrorAction::Suppress);
    }
}
