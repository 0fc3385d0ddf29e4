//! The running relay's own connection, holding its producer's advisory lock for as long as it
//! lives: while one replica holds it no other publishes that producer's rows, so a batch needs
//! no transaction of its own. A batch is then two statements (select, mark) instead of five
//! (begin, lock, select, mark, commit); the relays ran two to three batches per text.

use sqlx::{Connection as _, PgConnection, PgPool};

/// This relay's claim to publish its producer's rows.
#[derive(Debug, Default)]
pub(super) struct Leadership {
    conn: Option<PgConnection>,
    leading: bool,
}

impl Leadership {
    /// The connection to publish on, taking the producer's lock when it is free; `None` while
    /// another replica holds it.
    ///
    /// # Errors
    /// When Postgres cannot be reached; nothing is held then.
    pub(super) async fn connection(
        &mut self,
        pool: &PgPool,
        producer: &str,
    ) -> Result<Option<&mut PgConnection>, sqlx::Error> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                self.leading = false;
                self.conn
                    .insert(PgConnection::connect_with(&pool.connect_options()).await?)
            }
        };
        if !self.leading {
            // Session-level, so it outlives each statement; it conflicts with the
            // transaction-level lock `Relay::publish_batch` takes on the same key. Marks commit
            // without waiting for their WAL flush: a crash can only forget that rows were
            // published, and republishing them is deduplicated (the stream's duplicate window
            // on the idempotency key, then the consumers' inboxes).
            let taken = sqlx::query_scalar!(
                r#"select pg_try_advisory_lock(hashtextextended('josh_outbox:' || $1, 0))
                          and set_config('synchronous_commit', 'off', false) = 'off' as "taken!""#,
                producer
            )
            .fetch_one(&mut *conn)
            .await;
            match taken {
                Ok(taken) => self.leading = taken,
                Err(error) => {
                    self.lost();
                    return Err(error);
                }
            }
        }
        Ok(if self.leading {
            self.conn.as_mut()
        } else {
            None
        })
    }

    /// Gives the connection up after a database error; its lock goes with it.
    pub(super) fn lost(&mut self) {
        self.conn = None;
        self.leading = false;
    }
}
