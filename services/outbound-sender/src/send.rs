//! The send workers: claim a due job under a lease, wait for the sender's rate limit, call
//! Twilio, record the outcome. A job whose earlier attempt has no recorded outcome (a crash
//! mid-send, a timeout) is first looked up at Twilio, so a text is never sent twice when
//! Twilio can tell.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::PgListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use twilio::client::{ApiError, CreateMessage, MessageResource};

use crate::engine::{JOBS_CHANNEL, Outbound};
use crate::error::SenderError;
use crate::settle::Attempt;
use crate::store::claim::{self, Job};
use crate::store::jobs;
use crate::store::state;

/// Wake-ups kept for the workers at most.
const MAX_OWED_WAKE_UPS: usize = 1024;

/// How a claimed job got its turn under the sender's rate limit.
enum Tokens {
    /// At once.
    Ready,
    /// After waiting.
    Waited,
    /// Shutdown came first; the job was handed back.
    Stopped,
}

/// A claimed job's lease: the worker holding it and when it runs out (engine clock).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lease<'a> {
    pub(crate) owner: &'a str,
    pub(crate) until: time::OffsetDateTime,
}

/// What one look for work found.
enum Step {
    /// A job was handled.
    Worked {
        /// The claim saw other jobs due.
        others_due: bool,
        /// The number has a later text, due now that this one went: look again at once.
        number_has_more: bool,
        /// The job's own notification woke a worker (see [`claim::Claim::announced`]).
        announced: bool,
    },
    /// Nothing due (or the sender is paused); wait.
    Idle,
}

impl Outbound {
    /// Runs the send workers (and the NOTIFY listener that wakes them) until `shutdown`;
    /// a send in flight finishes and is recorded first.
    pub async fn run_workers(self, shutdown: CancellationToken) {
        self.take_back_leases().await;
        let mut tasks = JoinSet::new();
        tasks.spawn(self.clone().listen(shutdown.clone()));
        for n in 0..self.inner.settings.workers.max(1) {
            let owner = format!("{}/{n}", self.inner.settings.instance);
            // One worker polls for jobs that became due without a notification (retries,
            // held texts); the rest wait for a wake-up (10x the interval as a safety net):
            // sixteen polling workers cost 32 empty claims a second.
            let idle = if n == 0 {
                self.inner.settings.poll_interval
            } else {
                self.inner.settings.poll_interval * 10
            };
            tasks.spawn(self.clone().work(owner, idle, shutdown.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Owes one more wake-up to the workers (taken by the next worker to wait, or kept until
    /// one does). Bounded: beyond one per job in a large backlog, wake-ups only cost empty
    /// claims, and the workers drain a backlog by passing wake-ups on.
    pub(crate) fn wake_one(&self) {
        if self.inner.wake.available_permits() < MAX_OWED_WAKE_UPS {
            self.inner.wake.add_permits(1);
        }
    }

    async fn listen(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let listener = async {
                let mut l = PgListener::connect_with(&self.inner.pool).await?;
                l.listen(JOBS_CHANNEL).await?;
                Ok::<_, sqlx::Error>(l)
            };
            if let Ok(mut listener) = listener.await {
                loop {
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        received = listener.try_recv() => match received {
                            // One worker per new job: waking them all made every idle worker
                            // run an empty claim for each job. Wake-ups owed while every worker
                            // is busy are kept, one per job.
                            Ok(Some(_)) => self.wake_one(),
                            _ => break,
                        },
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn work(self, owner: String, poll: Duration, shutdown: CancellationToken) {
        // Whether this worker may hold a lease it does not know of (see `hand_back_own`).
        let mut unknown_lease = false;
        while !shutdown.is_cancelled() {
            let look = self.inner.polls.begin();
            let pause = match self.step(&owner, &mut unknown_lease, &shutdown).await {
                Ok(Step::Worked {
                    others_due,
                    number_has_more,
                    announced,
                }) => {
                    // Jobs announced as they were queued each owe a worker a wake-up, so the
                    // others due are being seen to: looking again would race their wake-ups
                    // (an empty claim for one of the two). Jobs nobody was told about (held,
                    // retried, a backlog older than a second, a resumed sender) are drained
                    // by passing a wake-up on, so workers join one at a time while claims
                    // keep finding jobs.
                    if others_due && !announced {
                        self.wake_one();
                        continue;
                    }
                    if number_has_more {
                        continue;
                    }
                    poll
                }
                Ok(Step::Idle) => {
                    self.inner.polls.ended_idle(look);
                    poll
                }
                Err(error) => {
                    unknown_lease = true;
                    tracing::warn!(worker = %owner, error = %error, "send step failed; retrying");
                    poll.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                woken = self.inner.wake.acquire() => {
                    if let Ok(permit) = woken {
                        permit.forget();
                    }
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn step(
        &self,
        owner: &str,
        unknown_lease: &mut bool,
        shutdown: &CancellationToken,
    ) -> Result<Step, SenderError> {
        if *unknown_lease {
            self.hand_back_own(owner).await?;
            *unknown_lease = false;
        }
        let settings = &self.inner.settings;
        let sender = settings.sender.as_str();
        let now = self.inner.clock.now();
        let mut conn = self.inner.pool.acquire().await?;
        // One statement, its own transaction: the claim skips everything while the sender (or
        // every sender) is paused. Only a pass that found nothing asks whether that was a pause.
        let lease = Lease {
            owner,
            until: now + settings.lease,
        };
        let claim = claim::claim_due(&mut conn, now, lease.until, owner, sender).await?;
        let paused = match claim {
            Some(_) => false,
            None => state::is_paused(&mut conn, sender).await?,
        };
        drop(conn);
        metrics::gauge!(crate::PAUSED_GAUGE, "sender" => sender.to_owned()).set(if paused {
            1.0
        } else {
            0.0
        });
        let Some(claim::Claim {
            job,
            others_due,
            number_has_more,
            announced,
        }) = claim
        else {
            return Ok(Step::Idle);
        };
        self.process(job, lease, shutdown).await?;
        Ok(Step::Worked {
            others_due,
            number_has_more,
            announced,
        })
    }

    /// Sends one claimed job and records what came of it.
    #[tracing::instrument(skip_all, fields(job_id = %job.id, purpose = %job.purpose, attempts = job.attempts))]
    async fn process(
        &self,
        job: Job,
        mut lease: Lease<'_>,
        shutdown: &CancellationToken,
    ) -> Result<(), SenderError> {
        let owner = lease.owner;
        let body = match self.job_body(&job) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(error = %error, "job body unreadable; failing the job");
                return self.fail_unreadable(&job).await;
            }
        };
        if let Some(since) = job.in_doubt_since
            && let Some(earlier) = self.earlier_attempt(&job, &body, since).await
        {
            let attempt = match &earlier {
                Ok(found) => Attempt::Sent {
                    created: found,
                    adopted: true,
                },
                Err(error) => Attempt::Failed {
                    error,
                    in_doubt: true,
                },
            };
            return self.settle(&job, &body, lease, attempt).await;
        }
        match self.wait_for_tokens(&job, &body, owner, shutdown).await? {
            Tokens::Stopped => return Ok(()),
            // The claim marked the send started a moment ago under a fresh lease.
            Tokens::Ready => {}
            // The wait may have outlasted the lease: renew it, and check it is still ours.
            Tokens::Waited => {
                if !self.renew(&job, &mut lease).await? {
                    tracing::warn!("lease lost before sending; leaving the job to its new owner");
                    return Ok(());
                }
            }
        }
        let message = CreateMessage {
            to: job.to_e164.clone(),
            sender: self.inner.settings.sender.clone(),
            body: body.clone(),
            status_callback: Some(self.inner.settings.status_callback.clone()),
            validity_period: job.validity_seconds.and_then(|v| u32::try_from(v).ok()),
        };
        let started = Instant::now();
        let result = self.inner.client.create(&message).await;
        let outcome = if result.is_ok() { "created" } else { "error" };
        metrics::histogram!("outbound_twilio_request_seconds", "op" => "create", "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        let attempt = match &result {
            Ok(created) => Attempt::Sent {
                created,
                adopted: false,
            },
            Err(error) => Attempt::Failed {
                error,
                in_doubt: error.outcome_unknown(),
            },
        };
        self.settle(&job, &body, lease, attempt).await
    }

    /// For a job whose earlier attempt has no recorded outcome: the message that attempt
    /// created (to record), a lookup error (to record as a failed attempt), or `None` to send.
    async fn earlier_attempt(
        &self,
        job: &Job,
        body: &SecretString,
        since: time::OffsetDateTime,
    ) -> Option<Result<MessageResource, ApiError>> {
        match self.find_earlier_send(job, body, since).await {
            Ok(Some(found)) => {
                metrics::counter!("outbound_in_doubt_adopted_total").increment(1);
                tracing::info!(sid = %found.sid, "an earlier attempt had been sent; recording it");
                Some(Ok(found))
            }
            Ok(None) => None,
            Err(error) if error.is_not_found() => {
                metrics::counter!("outbound_in_doubt_resends_total").increment(1);
                tracing::warn!(
                    "Twilio cannot list messages; resending an attempt of unknown outcome"
                );
                None
            }
            Err(error) => Some(Err(error)),
        }
    }

    /// Marks the send started now under a fresh lease; false when the lease was lost.
    async fn renew(&self, job: &Job, lease: &mut Lease<'_>) -> Result<bool, SenderError> {
        let now = self.inner.clock.now();
        lease.until = now + self.inner.settings.lease;
        let mut tx = self.inner.pool.begin().await?;
        let ours = jobs::mark_started(&mut tx, job.id, lease.owner, now, lease.until).await?;
        tx.commit().await?;
        Ok(ours)
    }

    fn job_body(&self, job: &Job) -> Result<SecretString, SenderError> {
        let body = job
            .body
            .as_ref()
            .ok_or(SenderError::Invalid("the job's body was purged"))?;
        Ok(self
            .inner
            .keyring
            .decrypt_to_string(body, job.idempotency_key.as_bytes())?)
    }

    /// Waits for the sender's rate limit (the job is released when shutdown comes first).
    async fn wait_for_tokens(
        &self,
        job: &Job,
        body: &SecretString,
        owner: &str,
        shutdown: &CancellationToken,
    ) -> Result<Tokens, SenderError> {
        let segments = job
            .segments
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or_else(|| {
                u32::try_from(twilio::segments::count(body.expose_secret()).segments).unwrap_or(1)
            });
        let clock = &self.inner.clock;
        let slot =
            self.inner
                .limiter
                .reserve(self.inner.settings.sender.as_str(), segments, clock.now());
        if slot <= clock.now() {
            return Ok(Tokens::Ready);
        }
        tokio::select! {
            () = clock.sleep_until(slot) => Ok(Tokens::Waited),
            () = shutdown.cancelled() => {
                let mut tx = self.inner.pool.begin().await?;
                jobs::release(&mut tx, job.id, owner, None).await?;
                tx.commit().await?;
                Ok(Tokens::Stopped)
            }
        }
    }

    /// A message Twilio created for this job in an attempt whose outcome was not recorded:
    /// same recipient and body, created since the attempt began, not recorded by another job.
    async fn find_earlier_send(
        &self,
        job: &Job,
        body: &SecretString,
        since: time::OffsetDateTime,
    ) -> Result<Option<MessageResource>, ApiError> {
        let started = Instant::now();
        let listed = self
            .inner
            .client
            .list_to(&job.to_e164, since - Duration::from_secs(60))
            .await;
        metrics::histogram!("outbound_twilio_request_seconds", "op" => "list", "outcome" => if listed.is_ok() { "ok" } else { "error" })
            .record(started.elapsed().as_secs_f64());
        let mut candidates: Vec<MessageResource> = listed?
            .into_iter()
            .filter(|m| m.body_is(body.expose_secret()))
            .collect();
        candidates.sort_by_key(MessageResource::created_at);
        for candidate in candidates {
            let taken = async {
                let mut tx = self.inner.pool.begin().await?;
                let taken = jobs::sid_taken(&mut tx, &candidate.sid).await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(taken)
            };
            // On a database error, assume taken: resending is the safer mistake here than
            // adopting another job's message.
            if !taken.await.unwrap_or(true) {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}
