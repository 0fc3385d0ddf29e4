//! Delivery statuses: `sms.status_reported` from inbound-sms and a reconciliation loop asking
//! Twilio about messages stuck without a final status. Both move a status forward only and act
//! on carrier error codes (21610 suppresses, 30005/30006 mark the number unusable, 30007/30034
//! pause the sender).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bus::{Handler, HandlerError};
use proto::v1::{SmsStatus, SmsStatusReported};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use twilio::errors::{ErrorAction, action_for_code};
use twilio::status::MessageStatus;

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::events::Origin;
use crate::intake::into_handler_error;
use crate::store::jobs;
use crate::store::statuses::{self, StatusMove};

/// Messages older than this are no longer reconciled.
const RECONCILE_HORIZON: Duration = Duration::from_secs(3 * 24 * 3600);
/// Messages asked about per reconciliation run.
const RECONCILE_BATCH: i64 = 100;
/// How often the queue-depth gauge is refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(15);

/// What a status update found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The status moved forward.
    Advanced,
    /// The status was not newer than the stored one.
    Stale,
    /// No outbound message has that SID (yet).
    Unknown,
}

/// Handles `sms.status_reported` inside the consumer's inbox transaction.
#[derive(Debug)]
pub struct StatusHandler {
    outbound: Outbound,
}

impl StatusHandler {
    /// A handler updating statuses for `outbound`.
    pub fn new(outbound: Outbound) -> Self {
        Self { outbound }
    }
}

/// A status report as the handler applies it.
struct Report<'a> {
    sid: &'a str,
    status: MessageStatus,
    code: Option<i32>,
}

/// The reports `envelope` carries: one for `sms.status_reported` (what inbound-sms published
/// before it grouped callbacks; still handled), each of a group's for `sms.statuses_reported`.
/// A status Twilio does not define is left out (logged).
fn reports_of(envelope: &Envelope) -> Result<Vec<Report<'_>>, HandlerError> {
    match &envelope.payload {
        Some(Payload::SmsStatusReported(report)) => Ok(report_of(report).into_iter().collect()),
        Some(Payload::SmsStatusesReported(group)) => {
            Ok(group.reports.iter().filter_map(report_of).collect())
        }
        _ => Err(into_handler_error(SenderError::Invalid(
            "not a status report",
        ))),
    }
}

/// One report as the handler applies it; `None` for a status Twilio does not define.
fn report_of(report: &SmsStatusReported) -> Option<Report<'_>> {
    let status = match SmsStatus::try_from(report.status)
        .ok()
        .and_then(twilio_status)
    {
        Some(status) => status,
        None => match report.raw_status.parse::<MessageStatus>() {
            Ok(status) => status,
            Err(_) => {
                tracing::warn!(raw_status = %report.raw_status, "status Twilio does not define; ignored");
                return None;
            }
        },
    };
    Some(Report {
        sid: &report.message_sid,
        status,
        code: Some(report.error_code).filter(|c| *c != 0),
    })
}

/// The callback can beat the commit of the send it reports on: try again later.
fn not_yet_sent() -> HandlerError {
    HandlerError::retry(SenderError::Invalid(
        "no outbound message with this SID yet",
    ))
}

impl StatusHandler {
    /// Applies a report with a carrier error on its own (its code may suppress a number or
    /// pause the sender, with events caused by `causation_id`).
    async fn apply_coded(
        &self,
        tx: &mut PgConnection,
        report: &Report<'_>,
        causation_id: &str,
    ) -> Result<(), HandlerError> {
        let applied = self
            .outbound
            .apply_status(tx, report.sid, report.status, report.code, causation_id)
            .await
            .map_err(into_handler_error)?;
        if applied == Applied::Unknown {
            return Err(not_yet_sent());
        }
        Ok(())
    }
}

impl Handler for StatusHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    /// The plain reports (no carrier error) of every envelope in one statement: per message,
    /// the status its reports would leave it at when applied in order. Reports with a carrier
    /// error are then applied one at a time (statuses only move forward, so the order between
    /// the two kinds does not change the outcome). An unknown SID fails the whole call, so that
    /// its reports wait for a retry (a lone envelope's, when a batch of several fails).
    async fn handle_batch(
        &self,
        tx: &mut PgConnection,
        envelopes: &[&Envelope],
    ) -> Result<(), HandlerError> {
        let mut latest: BTreeMap<&str, MessageStatus> = BTreeMap::new();
        let mut coded = Vec::new();
        for envelope in envelopes {
            for report in reports_of(envelope)? {
                if report.code.is_some() {
                    coded.push((report, envelope.event_id.as_str()));
                    continue;
                }
                latest
                    .entry(report.sid)
                    .and_modify(|best| {
                        if best.advances_to(report.status) {
                            *best = report.status;
                        }
                    })
                    .or_insert(report.status);
            }
        }
        let all_known = self
            .outbound
            .apply_statuses(tx, &latest)
            .await
            .map_err(into_handler_error)?;
        if !all_known {
            return Err(not_yet_sent());
        }
        for (report, causation_id) in coded {
            self.apply_coded(&mut *tx, &report, causation_id).await?;
        }
        Ok(())
    }
}

/// The statuses `status` moves a message from (those it is forward of).
fn moves_from(status: MessageStatus) -> Vec<&'static str> {
    MessageStatus::ALL
        .iter()
        .filter(|(s, _)| s.advances_to(status))
        .map(|(_, name)| *name)
        .collect()
}

/// Every status Twilio defines, by name.
fn known_statuses() -> Vec<&'static str> {
    MessageStatus::ALL.iter().map(|(_, name)| *name).collect()
}

impl Outbound {
    /// Moves message `sid` (and its job) to `status` if that is forward, and acts on a carrier
    /// error `code`.
    ///
    /// # Errors
    /// Database and outbox errors.
    #[tracing::instrument(skip_all, fields(sid, status = %status, error_code = code))]
    pub async fn apply_status(
        &self,
        tx: &mut PgConnection,
        sid: &str,
        status: MessageStatus,
        code: Option<i32>,
        causation_id: &str,
    ) -> Result<Applied, SenderError> {
        let now = self.inner.clock.now();
        let from = moves_from(status);
        let moved = statuses::advance_status(
            tx,
            sid,
            status.as_str(),
            &from,
            &known_statuses(),
            code,
            now,
        )
        .await?;
        let forward = moved.is_some();
        let sent = match moved {
            Some(sent) => sent,
            // Not moved: a stale status (the carrier code below still counts) or an unknown SID.
            None => match statuses::lock_sent(tx, sid).await? {
                Some(sent) => sent,
                None => return Ok(Applied::Unknown),
            },
        };
        if forward {
            metrics::counter!("outbound_status_updates_total", "status" => status.as_str())
                .increment(1);
        }
        if let Some(code) = code {
            let origin = Origin {
                at: now,
                correlation_id: String::new(),
                causation_id: causation_id.to_owned(),
                partition_key: sent
                    .user_id
                    .map(|u| u.to_string())
                    .or_else(|| sent.phone_hash.clone())
                    .unwrap_or_else(|| sid.to_owned()),
            };
            match action_for_code(u32::try_from(code).unwrap_or(0)) {
                ErrorAction::Suppress | ErrorAction::MarkUnusable => {
                    if let Some(hash) = sent.phone_hash.as_deref() {
                        self.suppress_number(tx, &origin, hash, sent.user_id, code, sid)
                            .await?;
                    }
                }
                ErrorAction::PauseSender => self.pause_sender(tx, &sent.sender, code).await?,
                ErrorAction::RetryLater | ErrorAction::Fail => {}
            }
        }
        Ok(if forward {
            Applied::Advanced
        } else {
            Applied::Stale
        })
    }

    /// Moves each message of `latest` (SID → status, no carrier error) and its job forward in
    /// one statement; false when a SID names no outbound message (yet).
    ///
    /// # Errors
    /// Database errors.
    #[tracing::instrument(skip_all, fields(messages = latest.len()))]
    pub async fn apply_statuses(
        &self,
        tx: &mut PgConnection,
        latest: &BTreeMap<&str, MessageStatus>,
    ) -> Result<bool, SenderError> {
        if latest.is_empty() {
            return Ok(true);
        }
        // In SID order (the map's), so concurrent batches lock rows in the same order.
        let moves: Vec<StatusMove<'_>> = latest
            .iter()
            .map(|(sid, status)| StatusMove {
                sid,
                status: status.as_str(),
                from: moves_from(*status),
            })
            .collect();
        let now = self.inner.clock.now();
        let moved = statuses::advance_statuses(tx, &moves, &known_statuses(), now).await?;
        for sid in &moved {
            if let Some(status) = latest.get(sid.as_str()) {
                metrics::counter!("outbound_status_updates_total", "status" => status.as_str())
                    .increment(1);
            }
        }
        if moved.len() == latest.len() {
            return Ok(true);
        }
        let still: Vec<String> = latest
            .keys()
            .filter(|sid| !moved.iter().any(|m| m == *sid))
            .map(|sid| (*sid).to_owned())
            .collect();
        let found = statuses::outbound_sids(tx, &still).await?;
        Ok(found.len() == still.len())
    }

    /// Refreshes the queue-depth gauge and reconciles stuck statuses until `shutdown`.
    pub async fn run_maintenance(self, shutdown: CancellationToken) {
        let mut last_reconcile = Instant::now();
        while !shutdown.is_cancelled() {
            if let Err(error) = self.refresh_queue_depth().await {
                tracing::warn!(error = %error, "queue depth unavailable");
            }
            if last_reconcile.elapsed() >= self.inner.settings.reconcile_interval {
                last_reconcile = Instant::now();
                match self.reconcile_once(&shutdown).await {
                    Ok(n) => tracing::debug!(checked = n, "reconciliation run done"),
                    Err(error) => tracing::warn!(error = %error, "reconciliation run failed"),
                }
            }
            let pause = GAUGE_INTERVAL.min(self.inner.settings.reconcile_interval);
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn refresh_queue_depth(&self) -> Result<(), SenderError> {
        let mut tx = self.inner.pool.begin().await?;
        let depth = jobs::pending_count(&mut tx).await?;
        tx.commit().await?;
        metrics::gauge!("outbound_queue_depth").set(depth as f64);
        Ok(())
    }

    /// Asks Twilio about outbound messages whose status has not changed for
    /// `reconcile_after` and applies what it says; returns how many were asked about.
    ///
    /// # Errors
    /// Database errors (a Twilio error skips that message).
    pub async fn reconcile_once(&self, shutdown: &CancellationToken) -> Result<usize, SenderError> {
        let now = self.inner.clock.now();
        let mut tx = self.inner.pool.begin().await?;
        let sids = statuses::unsettled(
            &mut tx,
            now - RECONCILE_HORIZON,
            now - self.inner.settings.reconcile_after,
            RECONCILE_BATCH,
        )
        .await?;
        tx.commit().await?;
        for sid in &sids {
            if shutdown.is_cancelled() {
                break;
            }
            let started = Instant::now();
            let fetched = self.inner.client.fetch(sid).await;
            metrics::histogram!("outbound_twilio_request_seconds", "op" => "fetch", "outcome" => if fetched.is_ok() { "ok" } else { "error" })
                .record(started.elapsed().as_secs_f64());
            let mut tx = self.inner.pool.begin().await?;
            match fetched {
                Ok(message) => {
                    if let Some(status) = message.status() {
                        let code = message
                            .error_code
                            .and_then(|c| i32::try_from(c).ok())
                            .filter(|c| *c != 0);
                        self.apply_status(&mut tx, sid, status, code, "").await?;
                    }
                }
                Err(error) if error.is_not_found() => {}
                Err(error) => {
                    tracing::warn!(sid = %sid, error = %error, "reconciliation fetch failed");
                    continue;
                }
            }
            statuses::mark_reconciled(&mut tx, sid, self.inner.clock.now()).await?;
            tx.commit().await?;
        }
        metrics::counter!("outbound_reconciled_total").increment(sids.len() as u64);
        Ok(sids.len())
    }
}

/// The Twilio status of a bus status (`None` for unspecified).
fn twilio_status(status: SmsStatus) -> Option<MessageStatus> {
    Some(match status {
        SmsStatus::Unspecified | SmsStatus::PartiallyDelivered => return None,
        SmsStatus::Queued => MessageStatus::Queued,
        SmsStatus::Sending => MessageStatus::Sending,
        SmsStatus::Sent => MessageStatus::Sent,
        SmsStatus::Delivered => MessageStatus::Delivered,
        SmsStatus::Undelivered => MessageStatus::Undelivered,
        SmsStatus::Failed => MessageStatus::Failed,
        SmsStatus::Receiving => MessageStatus::Receiving,
        SmsStatus::Received => MessageStatus::Received,
        SmsStatus::Accepted => MessageStatus::Accepted,
        SmsStatus::Scheduled => MessageStatus::Scheduled,
        SmsStatus::Read => MessageStatus::Read,
        SmsStatus::Canceled => MessageStatus::Canceled,
    })
}
