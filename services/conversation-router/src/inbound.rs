//! The `sms.received` consumer: decrypt, run the pipeline, enqueue the replies — all in the
//! inbox transaction, so a redelivered text has no second effect and no second reply.

use std::sync::Arc;

use bus::{Handler, HandlerError};
use proto::v1::SmsPurpose;
use proto::{Envelope, Payload};
use sqlx::{PgConnection, PgPool};

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::pipeline::{self, Inbound};
use crate::replies::{self, Origin, Recipient, Reply};

/// Handles inbound texts.
#[derive(Debug, Clone)]
pub struct InboundHandler {
    ctx: Arc<Context>,
}

impl InboundHandler {
    /// A handler over the router's context.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    async fn run(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), RouterError> {
        let Some(Payload::SmsReceived(sms)) = envelope.payload.as_ref() else {
            return Err(RouterError::UnexpectedEvent("expected sms.received"));
        };
        let body = sms
            .body
            .as_ref()
            .ok_or(RouterError::UnexpectedEvent("sms.received without a body"))?;
        let text = replies::open(&self.ctx.keyring, body, &sms.message_sid)?;
        let msg = Inbound {
            envelope,
            message_sid: &sms.message_sid,
            phone_e164: &sms.from_e164,
            phone_hash: &sms.phone_hash,
            text: &text,
        };
        let answer = pipeline::run(tx, &self.ctx, &msg).await?;
        let to = Recipient {
            user_id: answer.user.map(|u| u.id),
            phone_e164: &sms.from_e164,
            phone_hash: &sms.phone_hash,
        };
        replies::enqueue(
            tx,
            &self.ctx.keyring,
            envelope,
            &sms.message_sid,
            &to,
            &answer.replies,
            answer.opt_out_clear,
        )
        .await
    }
}

impl Handler for InboundHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.run(tx, envelope).await.map_err(HandlerError::from)
    }

    /// A text JOSH gave up on (it waits in the dead-letter subject for ops to replay): the
    /// sender hears "something went wrong", once, instead of silence (product-rules §1).
    async fn dead_lettered(&self, pool: &PgPool, envelope: &Envelope) {
        if let Err(error) = self.apologise(pool, envelope).await {
            tracing::error!(error = %platform::errors::ErrorChain(&error), "could not send the system-error reply");
        }
    }
}

impl InboundHandler {
    /// Enqueues the system-error reply to the sender of `envelope` (once per message).
    ///
    /// # Errors
    /// [`RouterError`] when the database or the outbox fails.
    pub async fn apologise(&self, pool: &PgPool, envelope: &Envelope) -> Result<(), RouterError> {
        let Some(Payload::SmsReceived(sms)) = envelope.payload.as_ref() else {
            return Ok(());
        };
        let mut tx = pool.begin().await?;
        let to = Recipient {
            user_id: None,
            phone_e164: &sms.from_e164,
            phone_hash: &sms.phone_hash,
        };
        let mut reply = Reply::with_purpose(copy::SYSTEM_ERROR, SmsPurpose::System);
        reply.urgent = true; // it answers the person's own text
        let key = format!("reply:{}:system_error", sms.message_sid);
        replies::send(
            &mut tx,
            &self.ctx.keyring,
            &Origin::of(envelope),
            &to,
            &reply,
            key,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
