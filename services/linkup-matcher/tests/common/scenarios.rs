//! Scenario helpers: history rows for the filters, and LinkUps brought to a locked state.

use proto::Payload;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Matcher, Spec};

impl Matcher {
    /// Seeds a LinkUp in `state` with `users` as confirmed participants (first = initiator),
    /// locked at `locked_at` for `event_time` (history for cooldown and overlap filters).
    pub async fn past_linkup(
        &self,
        users: &[Uuid],
        state: &str,
        locked_at: OffsetDateTime,
        event_time: OffsetDateTime,
    ) -> Uuid {
        let id: Uuid = sqlx::query_scalar(
            "insert into linkups (initiator_user_id, region_id, state, brief, linkup_create_key, locked_at, event_time)
             values ($1, $2, $3::linkup_state, '{}', $4, $5, $6) returning id",
        )
        .bind(users[0])
        .bind(self.region)
        .bind(state)
        .bind(format!("past-{}", self.next()))
        .bind(locked_at)
        .bind(event_time)
        .fetch_one(&self.db.pool)
        .await
        .unwrap();
        for (i, u) in users.iter().enumerate() {
            sqlx::query(
                "insert into linkup_participants (linkup_id, user_id, role) values ($1, $2, $3)",
            )
            .bind(id)
            .bind(u)
            .bind(if i == 0 { "initiator" } else { "participant" })
            .execute(&self.db.pool)
            .await
            .unwrap();
        }
        id
    }

    /// Gives `user` an invite in state `state` to a fresh broadcasting LinkUp, sent at `sent_at`.
    pub async fn other_invite(
        &self,
        initiator: Uuid,
        user: Uuid,
        state: &str,
        sent_at: OffsetDateTime,
    ) {
        let linkup = self
            .past_linkup(&[initiator], "broadcasting", sent_at, sent_at)
            .await;
        sqlx::query(
            "insert into linkup_invites (linkup_id, invited_user_id, state, sent_at, idempotency_key)
             values ($1, $2, $3::invite_state, $4, $5)",
        )
        .bind(linkup)
        .bind(user)
        .bind(state)
        .bind(sent_at)
        .bind(format!("other-{}", self.next()))
        .execute(&self.db.pool)
        .await
        .unwrap();
    }
}

impl Matcher {
    /// A LinkUp of `size` people (min 2) locked on Thursday for Saturday morning; returns it and
    /// its participants, initiator first.
    pub async fn locked(&self, size: usize) -> (Uuid, Vec<Uuid>) {
        let initiator = self
            .person(Spec {
                first_name: "Ana".into(),
                ..Spec::default()
            })
            .await;
        for name in ["Bo", "Cy", "Di", "Ed", "Flo", "Gus"] {
            self.person(Spec {
                first_name: name.into(),
                ..Spec::default()
            })
            .await;
        }
        // A pair locks at the window's end (max_size must exceed min_size); larger groups fill up.
        let max = u32::try_from(size.max(3)).unwrap();
        let linkup = self
            .create(&self.request(initiator, "SAT_MORNING", (2, max)))
            .await
            .unwrap();
        let invites = self.invites(linkup).await;
        for invite in invites.iter().take(size - 1) {
            self.reply(invite.0, true).await;
        }
        if size == 2 {
            self.advance(time::Duration::hours(24)).await;
        }
        assert_eq!(self.state(linkup).await, "locked");
        let mut group = vec![initiator];
        group.extend(invites.iter().take(size - 1).map(|i| i.1));
        (linkup, group)
    }

    /// Delivers an after-lock input (outcome, contact choice, cancel, drop) to its handler.
    pub async fn deliver_after(&self, payload: impl Into<Payload>, key: String) {
        let envelope = self.envelope(payload, key, "p".into());
        bus::deliver(
            &self.pool,
            linkup_matcher::SERVICE,
            &linkup_matcher::after::AfterHandler::new(self.ctx.clone()),
            &envelope,
        )
        .await
        .unwrap();
    }
}
