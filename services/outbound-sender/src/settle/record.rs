//! A send Twilio accepted, recorded: the job sent, the message stored (body bound to the SID)
//! and `sms.sent` in the outbox, in one statement (`store::sent`).

use bus::Notify;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::PgConnection;
use twilio::client::MessageResource;
use twilio::status::MessageStatus;

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::events;
use crate::purpose;
use crate::store::claim::Job;
use crate::store::jobs;
use crate::store::sent::{self, NewMessage};

/// What became of a send's record.
#[derive(Debug, PartialEq, Eq)]
enum Record {
    /// The job is sent and its message and `sms.sent` stored.
    Stored,
    /// The job was settled before; nothing was stored. Its recorded SID, if any.
    SettledAlready(Option<String>),
}

impl Outbound {
    /// Twilio accepted the job as `created`: the job is sent, the message stored (body bound to
    /// the SID) and `sms.sent` published, in one statement.
    pub(super) async fn record_sent(
        &self,
        job: &Job,
        created: &MessageResource,
        body: &SecretString,
        adopted: bool,
    ) -> Result<(), SenderError> {
        let origin = self.origin_of(job);
        let status = created.status().unwrap_or(MessageStatus::Queued);
        let segments = created.segments().unwrap_or_else(|| {
            u32::try_from(twilio::segments::count(body.expose_secret()).segments).unwrap_or(1)
        });
        let sealed = self
            .inner
            .keyring
            .encrypt_str(body.expose_secret(), created.sid.as_bytes())?;
        let sender = self.inner.settings.sender.as_str();
        let message = NewMessage {
            user_id: job.user_id,
            from: created.from.as_deref().unwrap_or(sender),
            to: &job.to_e164,
            sid: &created.sid,
            body: &sealed,
            status: status.as_str(),
            num_segments: i32::try_from(segments).unwrap_or(i32::MAX),
            correlation_id: job.correlation_id,
            at: origin.at,
        };
        let user = job.user_id.map(|u| u.to_string()).unwrap_or_default();
        let event = events::sent(
            job.id,
            &created.sid,
            segments,
            &user,
            purpose::parse(&job.purpose),
            status.to_bus(),
            origin.at,
        );
        let event = events::outbox_row(&origin, format!("sms.sent:{}", job.id), event)?;
        let record = match job.user_id {
            // Nothing to scrub without a user: the statement is its own transaction.
            None => {
                let mut conn = self.inner.pool.acquire().await?;
                self.record_on(&mut conn, job.id, &message, &event).await?.0
            }
            Some(_) => self.record_for_user(job, &message, &event).await?,
        };
        if let Record::SettledAlready(recorded) = record {
            self.not_recorded(created, recorded.as_deref(), adopted);
            return Ok(());
        }
        bus::wake::after_commit(self.inner.relay.get()).await;
        metrics::counter!("outbound_jobs_sent_total", "purpose" => job.purpose.clone())
            .increment(1);
        tracing::info!(sid = %created.sid, segments, "text sent");
        Ok(())
    }

    /// [`Outbound::record_sent`] for a user's job: in a transaction that also scrubs it when
    /// the account was deleted meanwhile.
    async fn record_for_user(
        &self,
        job: &Job,
        message: &NewMessage<'_>,
        event: &bus::outbox::OutboxRow,
    ) -> Result<Record, SenderError> {
        let mut tx = self.inner.pool.begin().await?;
        let (record, user_deleted) = self.record_on(&mut tx, job.id, message, event).await?;
        if record != Record::Stored {
            tx.rollback().await?;
            return Ok(record);
        }
        if user_deleted {
            self.scrub_if_deleted(&mut tx, job.user_id, job.phone_hash.as_deref())
                .await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    /// Runs the send's record statement on `conn`; when the job was settled already, reads the
    /// SID it was settled with. The flag: the message's user was deleted meanwhile.
    async fn record_on(
        &self,
        conn: &mut PgConnection,
        job_id: uuid::Uuid,
        message: &NewMessage<'_>,
        event: &bus::outbox::OutboxRow,
    ) -> Result<(Record, bool), SenderError> {
        let notify = Notify::by(self.inner.relay.get());
        let done = sent::record_sent(conn, job_id, message, event, notify).await?;
        if done.recorded {
            return Ok((Record::Stored, done.user_deleted));
        }
        let recorded = jobs::recorded_sid(conn, job_id).await?;
        Ok((Record::SettledAlready(recorded), false))
    }

    /// A send whose job was settled before its record: by this very send (an earlier try whose
    /// commit went through though its answer was lost, or a worker that found this message
    /// after the lease ran out), or by another worker, in which case the text went out twice.
    fn not_recorded(&self, created: &MessageResource, recorded: Option<&str>, adopted: bool) {
        if recorded == Some(created.sid.as_str()) {
            tracing::info!(sid = %created.sid, "the send was recorded already");
            return;
        }
        if !adopted {
            metrics::counter!("outbound_duplicate_sends_total").increment(1);
            tracing::error!(sid = %created.sid, "job was settled by another worker while this one sent it: a duplicate text went out");
        }
    }
}
