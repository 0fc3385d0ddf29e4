//! What happens to a message after create: its statuses move forward on a timer, each one
//! (except the first, which only the create response carries) is posted to its `StatusCallback`,
//! signed like every Twilio webhook, and a delivered message lands in the recipient's phone.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use time::OffsetDateTime;
use twilio::status::MessageStatus;

use crate::Shared;
use crate::resource::API_VERSION;
use crate::state::{NumberBehavior, SimMessage};

/// How long Twilio waits for a webhook answer.
pub(crate) const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// Twilio's error for a message that waited in the queue longer than its `ValidityPeriod`.
const VALIDITY_EXPIRED: u32 = 30036;

/// The statuses a message goes through after its first one, with the error code of a failure.
fn steps(first: MessageStatus, behavior: NumberBehavior) -> Vec<(MessageStatus, Option<u32>)> {
    let mut steps = Vec::new();
    if first == MessageStatus::Accepted {
        // A Messaging Service message leaves `accepted` for `queued`, with a callback.
        steps.push((MessageStatus::Queued, None));
    }
    match behavior {
        NumberBehavior::Deliver | NumberBehavior::OptedOut => {
            steps.push((MessageStatus::Sent, None));
            steps.push((MessageStatus::Delivered, None));
        }
        NumberBehavior::Unreachable(code) => {
            steps.push((MessageStatus::Sent, None));
            steps.push((MessageStatus::Undelivered, Some(code)));
        }
        NumberBehavior::Fail(code) => steps.push((MessageStatus::Failed, Some(code))),
    }
    steps
}

/// Starts the automatic lifecycle of a just-created message (stops with the simulator).
pub(crate) fn spawn(shared: &Arc<Shared>, message: &SimMessage, behavior: NumberBehavior) {
    let steps = steps(message.status, behavior);
    let sid = message.sid.clone();
    let task_shared = Arc::clone(shared);
    shared.tasks.spawn(async move {
        let shared = task_shared;
        tokio::select! {
            () = shared.shutdown.cancelled() => {}
            () = run(&shared, &sid, steps) => {}
        }
    });
}

async fn run(shared: &Shared, sid: &str, steps: Vec<(MessageStatus, Option<u32>)>) {
    for (mut status, mut error_code) in steps {
        tokio::time::sleep(shared.callback_delay).await;
        let Some(current) = shared.store.message(sid) else {
            return;
        };
        if current.status.is_final() {
            // A test moved it on by hand (fire_status): the carrier has nothing left to say.
            return;
        }
        if !current.status.advances_to(status) {
            continue;
        }
        if status == MessageStatus::Sent && validity_expired(&current) {
            (status, error_code) = (MessageStatus::Failed, Some(VALIDITY_EXPIRED));
        }
        let Some(message) = shared.store.advance(sid, status, error_code) else {
            return;
        };
        tracing::info!(sid, status = %status, error_code, "message status changed");
        if shared.store.drop_callbacks() {
            tracing::info!(sid, status = %status, "status callback dropped (fault injected)");
        } else if let Some(url) = &message.status_callback
            && let Err(error) = post_status(shared, url, &message, status, error_code).await
        {
            tracing::warn!(sid, status = %status, error = format!("{error:#}"), "status callback failed");
        }
        if status.is_final() {
            return;
        }
    }
}

fn validity_expired(message: &SimMessage) -> bool {
    message.validity_period.is_some_and(|secs| {
        OffsetDateTime::now_utc() - message.date_created > time::Duration::seconds(secs.into())
    })
}

/// Posts a signed status callback for `message` with `status` (which need not be its stored
/// status: tests send callbacks out of order) and returns the receiver's HTTP status.
pub(crate) async fn post_status(
    shared: &Shared,
    url: &str,
    message: &SimMessage,
    status: MessageStatus,
    error_code: Option<u32>,
) -> anyhow::Result<u16> {
    let params = status_params(message, status, error_code);
    let code = post_signed(shared, url, &params).await?;
    tracing::info!(sid = %message.sid, status = %status, url, http_status = code, "status callback sent");
    Ok(code)
}

/// The parameters of a status callback, named and ordered as Twilio sends them.
pub(crate) fn status_params(
    message: &SimMessage,
    status: MessageStatus,
    error_code: Option<u32>,
) -> Vec<(String, String)> {
    let mut params: Vec<(&str, String)> = vec![
        ("SmsSid", message.sid.clone()),
        ("SmsStatus", status.to_string()),
        ("MessageStatus", status.to_string()),
        ("To", message.to.clone()),
    ];
    if let Some(service) = &message.messaging_service_sid {
        params.push(("MessagingServiceSid", service.clone()));
    }
    params.push(("MessageSid", message.sid.clone()));
    params.push(("AccountSid", message.account_sid.clone()));
    if let Some(from) = &message.from {
        params.push(("From", from.clone()));
    }
    params.push(("ApiVersion", API_VERSION.to_owned()));
    if matches!(status, MessageStatus::Failed | MessageStatus::Undelivered)
        && let Some(code) = error_code
    {
        params.push(("ErrorCode", code.to_string()));
    }
    if matches!(
        status,
        MessageStatus::Delivered | MessageStatus::Undelivered
    ) {
        params.push((
            "RawDlrDoneDate",
            raw_dlr_done_date(OffsetDateTime::now_utc()),
        ));
    }
    params
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// A carrier delivery-report date: `YYMMDDhhmm`.
fn raw_dlr_done_date(at: OffsetDateTime) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        at.year() % 100,
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// POSTs `params` form-encoded to `url` with `X-Twilio-Signature` computed over exactly that
/// URL and those parameters; returns the HTTP status of the answer.
pub(crate) async fn post_signed(
    shared: &Shared,
    url: &str,
    params: &[(String, String)],
) -> anyhow::Result<u16> {
    let signature = twilio::signature::sign(&shared.auth_token, url, params);
    let response = shared
        .http
        .post(url)
        .header(twilio::signature::HEADER, signature)
        .header(
            "I-Twilio-Idempotency-Token",
            uuid::Uuid::new_v4().to_string(),
        )
        .form(params)
        .timeout(WEBHOOK_TIMEOUT)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::*;

    #[test]
    fn lifecycles_by_behavior() {
        assert_eq!(
            steps(Queued, NumberBehavior::Deliver),
            [(Sent, None), (Delivered, None)]
        );
        assert_eq!(
            steps(Accepted, NumberBehavior::Deliver),
            [(Queued, None), (Sent, None), (Delivered, None)]
        );
        assert_eq!(
            steps(Queued, NumberBehavior::Unreachable(30005)),
            [(Sent, None), (Undelivered, Some(30005))]
        );
        assert_eq!(
            steps(Queued, NumberBehavior::Fail(30034)),
            [(Failed, Some(30034))]
        );
    }

    #[test]
    fn dlr_dates_are_yymmddhhmm() {
        let at = time::macros::datetime!(2026-11-22 14:03:59 UTC);
        assert_eq!(raw_dlr_done_date(at), "2611221403");
    }
}
