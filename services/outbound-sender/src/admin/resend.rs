//! `ResendJob`: a failed or undelivered job goes out again as a new job linked to it
//! (`resent_from`), with its body re-sealed to the new job's idempotency key.

use admin_auth::{Admin, AuditEntry, internal};
use tonic::Status;
use uuid::Uuid;

use crate::engine::Outbound;
use crate::store::admin::{self as store, Original};
use crate::store::jobs::{self, NewJob};
use crate::store::state;

/// Delivery statuses after which a sent job may be resent.
const UNDELIVERED: [&str; 2] = ["failed", "undelivered"];

fn resendable(job: &Original) -> bool {
    job.status == "failed"
        || (job.status == "sent"
            && job
                .delivery_status
                .as_deref()
                .is_some_and(|d| UNDELIVERED.contains(&d)))
}

/// Creates the resend of `job_id` and audits it as `job.resend`; the new job's id.
pub(super) async fn resend(
    outbound: &Outbound,
    admin: &Admin,
    job_id: Uuid,
    reason: &str,
) -> Result<Uuid, Status> {
    let inner = &outbound.inner;
    let now = inner.clock.now();
    let mut tx = inner.pool.begin().await.map_err(internal)?;
    let job = store::original_for_update(&mut tx, job_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such job"))?;
    if !resendable(&job) {
        return Err(Status::failed_precondition(format!(
            "only a failed or undelivered job can be resent (this one is {}{})",
            job.status,
            job.delivery_status
                .as_deref()
                .map(|d| format!(", delivery {d}"))
                .unwrap_or_default()
        )));
    }
    if let Some(existing) = store::resent_by(&mut tx, job_id).await.map_err(internal)? {
        return Err(Status::already_exists(format!(
            "job {job_id} was resent already as {existing}"
        )));
    }
    if let Some(hash) = job.phone_hash.as_deref()
        && let Some(s) = state::suppression(&mut tx, hash).await.map_err(internal)?
    {
        return Err(Status::failed_precondition(format!(
            "the recipient is suppressed ({}); the job cannot be resent",
            s.reason
        )));
    }
    let new_id = Uuid::now_v7();
    let key = format!("admin-resend:{job_id}");
    let body = reseal(outbound, &job, &key)?;
    let new = NewJob {
        id: new_id,
        user_id: job.user_id,
        to_e164: &job.to_e164,
        phone_hash: job.phone_hash.as_deref().unwrap_or_default(),
        body: &body,
        purpose: &job.purpose,
        status: "pending",
        urgent: job.urgent,
        validity_seconds: None,
        segments: job.segments.unwrap_or(1),
        run_at: now,
        correlation_id: job.correlation_id,
        idempotency_key: &key,
        created_at: now,
    };
    jobs::insert(&mut tx, &new).await.map_err(internal)?;
    store::link_resend(&mut tx, new_id, job_id)
        .await
        .map_err(internal)?;
    let entry = AuditEntry::new(admin, "job.resend", "sms_outbound_job")
        .target(job_id)
        .reason(reason)
        .with("new_job_id", new_id.to_string())
        .with("previous_status", job.status.as_str())
        .with("delivery_status", job.delivery_status.clone());
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, job = %job_id, new_job = %new_id, "an admin resent a job");
    Ok(new_id)
}

/// The body decrypted with the old job's key and sealed to `key` (bodies are bound to their
/// job's idempotency key).
fn reseal(outbound: &Outbound, job: &Original, key: &str) -> Result<crypto::EncryptedBody, Status> {
    let keyring = &outbound.inner.keyring;
    let body = job.body.as_ref().ok_or_else(|| {
        Status::failed_precondition("the job's body was purged by retention; it cannot be resent")
    })?;
    let plain = keyring
        .decrypt_to_string(body, job.idempotency_key.as_bytes())
        .map_err(internal)?;
    keyring
        .encrypt_str(secrecy::ExposeSecret::expose_secret(&plain), key.as_bytes())
        .map_err(internal)
}
