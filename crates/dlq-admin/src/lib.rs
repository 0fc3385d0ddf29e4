//! The `josh.admin.v1.DeadLetters` admin API, implemented once: every service that consumes from
//! the bus mounts a [`DeadLettersApi`] for its own consumer on its admin gRPC server, next to its
//! own admin service:
//!
//! ```ignore
//! tonic::transport::Server::builder()
//!     .add_service(my_admin_api.into_server())
//!     .add_service(dlq_admin::DeadLettersApi::new(pool, bus.jetstream().clone(), SERVICE).into_server())
//! ```
//!
//! - `ListDeadLetters` (any role): the service's dead letters, oldest first, filtered by subject,
//!   described by metadata only (subject, type, event id, error, attempts, first and last failure);
//!   never a message body.
//! - `ReplayDeadLetters` (ops, engineering; reason required): one letter, or every one matching a
//!   filter, published again to its original subject and removed from the dead-letter stream.
//!   The envelope keeps its event id, so consumers that handled it already skip it (their inbox)
//!   and the consumer that gave up handles it once.
//! - `DiscardDeadLetter` (ops, engineering; reason required): removes one letter unreplayed.
//!
//! Every call is authenticated and role-checked through `admin_auth` and written to
//! `admin_audit_log` (`dlq.list`, `dlq.replay` with the count, `dlq.discard`); a refusal for the
//! role is audited as denied. A service only sees its own letters: another consumer's filter is
//! `INVALID_ARGUMENT`, another consumer's letter `NOT_FOUND`.
//!
//! Replays and discards change JetStream, not Postgres, so they cannot commit with their audit
//! row: the row is written right after, with what was actually done (a replay of many that
//! stops part-way is audited with the letters it did replay and `"outcome": "partial"`).

use admin_auth::{Admin, AuditEntry, Role, internal, require_reason};
use async_nats::jetstream;
use bus::BusError;
use bus::dlq::{self, DeadLetter, Filter};
use rpc::admin::v1 as api;
use rpc::admin::v1::dead_letters_server::{DeadLetters, DeadLettersServer};
use rpc::admin::v1::replay_dead_letters_request::Target;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// Letters a list returns when the request names no limit.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most letters one list returns.
pub const MAX_LIMIT: u32 = 1000;
/// The most letters one "replay all" replays (run it again for the rest).
pub const MAX_REPLAY: usize = 1000;

/// The dead-letter admin API of one service's consumer.
#[derive(Debug, Clone)]
pub struct DeadLettersApi {
    pool: PgPool,
    js: jetstream::Context,
    consumer: &'static str,
}

impl DeadLettersApi {
    /// The API over `consumer`'s dead letters (the service's name: every service consumes under
    /// it), authenticating and auditing through `pool` (the service's own database role).
    pub fn new(pool: PgPool, js: jetstream::Context, consumer: &'static str) -> Self {
        Self { pool, js, consumer }
    }

    /// The tonic service.
    pub fn into_server(self) -> DeadLettersServer<Self> {
        DeadLettersServer::new(self)
    }

    /// The request's filter, always narrowed to this service's consumer.
    fn filter(&self, wire: Option<&api::DeadLetterFilter>) -> Result<Filter, Status> {
        let (consumer, subject) = wire.map_or(("", ""), |f| (f.consumer.trim(), f.subject.trim()));
        if !consumer.is_empty() && consumer != self.consumer {
            return Err(Status::invalid_argument(format!(
                "this is {}'s admin API: it holds only the dead letters of consumer {}; ask {consumer}'s",
                self.consumer, self.consumer
            )));
        }
        if !subject.is_empty() && subject.split('.').any(str::is_empty) {
            return Err(Status::invalid_argument(
                "subject must be dot-separated tokens, e.g. josh.evt.sms.received or josh.evt.>",
            ));
        }
        Ok(Filter {
            consumer: Some(self.consumer.to_owned()),
            subject: (!subject.is_empty()).then(|| subject.to_owned()),
        })
    }

    /// Dead letter `sequence` if it is this service's.
    async fn own(&self, sequence: u64) -> Result<DeadLetter, Status> {
        if sequence == 0 {
            return Err(Status::invalid_argument(
                "a dead letter's sequence is required",
            ));
        }
        match dlq::get(&self.js, sequence).await {
            Ok(letter) if letter.consumer == self.consumer => Ok(letter),
            Ok(_) | Err(BusError::NoSuchDeadLetter(_)) => Err(Status::not_found(format!(
                "{} has no dead letter {sequence}",
                self.consumer
            ))),
            Err(error) => Err(internal(error)),
        }
    }

    /// The letters a replay request names.
    async fn select(&self, target: Option<&Target>) -> Result<Selection, Status> {
        match target {
            Some(Target::Sequence(sequence)) => Ok(Selection {
                letters: vec![self.own(*sequence).await?],
                how: serde_json::json!({ "sequence": sequence }),
                more_left: false,
            }),
            Some(Target::All(wire)) => {
                let filter = self.filter(Some(wire))?;
                // Letters that fail again while this runs land after `up_to`: not replayed twice.
                let up_to = dlq::last_sequence(&self.js).await.map_err(internal)?;
                let page = dlq::find(&self.js, &filter, 1, up_to, MAX_REPLAY)
                    .await
                    .map_err(internal)?;
                let how = serde_json::json!({
                    "all": true,
                    "subject": filter.subject,
                    "more_left": page.truncated,
                });
                Ok(Selection {
                    letters: page.letters,
                    how,
                    more_left: page.truncated,
                })
            }
            None => Err(Status::invalid_argument(
                "name a dead letter (sequence) or ask for all",
            )),
        }
    }

    /// Writes `entry` in its own transaction.
    async fn write_audit(&self, entry: &AuditEntry<'_>) -> Result<(), Status> {
        let mut tx = self.pool.begin().await.map_err(internal)?;
        admin_auth::audit(&mut tx, entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    fn response_letters(letters: &[DeadLetter]) -> Vec<api::DeadLetter> {
        letters.iter().map(to_wire).collect()
    }
}

/// The letters a replay takes.
struct Selection {
    letters: Vec<DeadLetter>,
    /// How the request named them (for the audit row).
    how: serde_json::Value,
    /// More matched than one call replays.
    more_left: bool,
}

/// The wire form of a letter: metadata only, never the payload.
pub fn to_wire(letter: &DeadLetter) -> api::DeadLetter {
    api::DeadLetter {
        sequence: letter.sequence,
        consumer: letter.consumer.clone(),
        original_subject: letter.original_subject.clone(),
        payload_type: letter.payload_type.clone(),
        event_id: letter.event_id.clone(),
        error: letter.reason.clone(),
        attempts: letter.attempts,
        first_failed_at: proto::timestamp::to_timestamp_opt(letter.first_failed_at),
        last_failed_at: proto::timestamp::to_timestamp_opt(letter.failed_at),
        replays: letter.replays,
    }
}

/// `entry` naming the letter's event as its target when the event id is a UUID.
fn with_target<'a>(entry: AuditEntry<'a>, letter: &DeadLetter) -> AuditEntry<'a> {
    match uuid::Uuid::parse_str(&letter.event_id) {
        Ok(id) => entry.target(id),
        Err(_) => entry,
    }
}

fn replay_audit<'a>(
    admin: &Admin,
    service: &str,
    why: &'a str,
    how: serde_json::Value,
    replayed: &[DeadLetter],
) -> AuditEntry<'a> {
    let sequences: Vec<u64> = replayed.iter().map(|l| l.sequence).collect();
    let entry = AuditEntry::new(admin, "dlq.replay", "dead_letter")
        .reason(why)
        .with("service", service)
        .with("selected", how)
        .with("count", replayed.len())
        .with("sequences", sequences);
    match replayed {
        [one] => with_target(entry, one),
        _ => entry,
    }
}

#[tonic::async_trait]
impl DeadLetters for DeadLettersApi {
    #[tracing::instrument(skip_all, fields(consumer = self.consumer))]
    async fn list_dead_letters(
        &self,
        request: Request<api::ListDeadLettersRequest>,
    ) -> Result<Response<api::ListDeadLettersResponse>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "dlq.list").await?;
        let req = request.get_ref();
        let filter = self.filter(req.filter.as_ref())?;
        let limit = match req.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        };
        let page = dlq::find(&self.js, &filter, 1, u64::MAX, limit as usize)
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new(&admin, "dlq.list", "dead_letters")
            .with("service", self.consumer)
            .with("subject", filter.subject.clone())
            .with("count", page.letters.len());
        self.write_audit(&entry).await?;
        Ok(Response::new(api::ListDeadLettersResponse {
            service: self.consumer.to_owned(),
            dead_letters: Self::response_letters(&page.letters),
            truncated: page.truncated,
        }))
    }

    #[tracing::instrument(skip_all, fields(consumer = self.consumer))]
    async fn replay_dead_letters(
        &self,
        request: Request<api::ReplayDeadLettersRequest>,
    ) -> Result<Response<api::ReplayDeadLettersResponse>, Status> {
        let admin = admin_auth::authorize(
            &self.pool,
            request.metadata(),
            Role::OPERATORS,
            "dlq.replay",
        )
        .await?;
        let req = request.get_ref();
        let why = require_reason(&req.reason)?;
        let Selection {
            letters,
            how,
            more_left,
        } = self.select(req.target.as_ref()).await?;
        let mut replayed = Vec::with_capacity(letters.len());
        let mut failure = None;
        for letter in letters {
            match dlq::replay_letter(&self.js, &letter).await {
                Ok(()) => replayed.push(letter),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let mut entry = replay_audit(&admin, self.consumer, why, how, &replayed);
        if failure.is_some() {
            entry = entry.with("outcome", "partial");
        }
        self.write_audit(&entry).await?;
        tracing::warn!(admin = %admin.id, count = replayed.len(), "an admin replayed dead letters");
        if let Some(error) = failure {
            return Err(internal(error));
        }
        Ok(Response::new(api::ReplayDeadLettersResponse {
            service: self.consumer.to_owned(),
            replayed: Self::response_letters(&replayed),
            more_left,
        }))
    }

    #[tracing::instrument(skip_all, fields(consumer = self.consumer))]
    async fn discard_dead_letter(
        &self,
        request: Request<api::DiscardDeadLetterRequest>,
    ) -> Result<Response<api::DiscardDeadLetterResponse>, Status> {
        let admin = admin_auth::authorize(
            &self.pool,
            request.metadata(),
            Role::OPERATORS,
            "dlq.discard",
        )
        .await?;
        let req = request.get_ref();
        let why = require_reason(&req.reason)?;
        let letter = self.own(req.sequence).await?;
        if !dlq::remove(&self.js, letter.sequence)
            .await
            .map_err(internal)?
        {
            return Err(Status::not_found(format!(
                "dead letter {} was replayed or discarded meanwhile",
                letter.sequence
            )));
        }
        let entry = AuditEntry::new(&admin, "dlq.discard", "dead_letter")
            .reason(why)
            .with("service", self.consumer)
            .with("sequence", letter.sequence)
            .with("original_subject", letter.original_subject.as_str())
            .with("payload_type", letter.payload_type.as_str());
        self.write_audit(&with_target(entry, &letter)).await?;
        tracing::warn!(admin = %admin.id, sequence = letter.sequence, "an admin discarded a dead letter");
        Ok(Response::new(api::DiscardDeadLetterResponse {
            service: self.consumer.to_owned(),
            discarded: Some(to_wire(&letter)),
        }))
    }
}
