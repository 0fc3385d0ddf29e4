//! The `sms.received` consumer: decrypt, run the pipeline, enqueue the replies — all in the
//! inbox transaction, so a redelivered text has no second effect and no second reply.

use std::sync::Arc;

use bus::{Handler, HandlerError};
use proto::{Envelope, Payload};
use sqlx::PgConnection;

use crate::Context;
use crate::error::RouterError;
use crate::pipeline::{self, Inbound};
use crate::replies::{self, Recipient};

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
        let (user, replies) = pipeline::run(tx, &self.ctx, &msg).await?;
        let to = Recipient {
            user_id: user.map(|u| u.id),
            phone_e164: &sms.from_e164,
            phone_hash: &sms.phone_hash,
        };
        replies::enqueue(
            tx,
            &self.ctx.keyring,
            envelope,
            &sms.message_sid,
            &to,
            &replies,
        )
        .await
    }
}

impl Handler for InboundHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.run(tx, envelope).await.map_err(HandlerError::from)
    }
}
