//! The safety keyword list as the screening step uses it, read from `safety_keyword_rules` at
//! most once per [`REFRESH`]. The list changes by migration or ops SQL, rarely; reading it (some
//! thirty rows) for every text was a round trip and a row set per text. A new list applies to
//! texts screened after the next refresh.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgConnection;

use crate::store::safety as store;
use crate::text::safety::SafetyRules;

/// How long a read list serves before it is read again.
pub const REFRESH: Duration = Duration::from_secs(10);

/// The list last read, and when.
#[derive(Debug)]
pub struct RuleCache {
    refresh: Duration,
    held: Mutex<Option<(Instant, Arc<SafetyRules>)>>,
}

impl Default for RuleCache {
    fn default() -> Self {
        Self::with_refresh(REFRESH)
    }
}

impl RuleCache {
    /// A cache reading the list again after `refresh`.
    pub fn with_refresh(refresh: Duration) -> Self {
        Self {
            refresh,
            held: Mutex::new(None),
        }
    }

    /// The current list: the one held when it is fresh, else read on `tx`.
    ///
    /// # Errors
    /// When the list cannot be read.
    pub async fn current(&self, tx: &mut PgConnection) -> Result<Arc<SafetyRules>, sqlx::Error> {
        if let Some(rules) = self.fresh() {
            return Ok(rules);
        }
        let rules = Arc::new(SafetyRules::new(store::keyword_rules(tx).await?));
        if let Ok(mut held) = self.held.lock() {
            *held = Some((Instant::now(), rules.clone()));
        }
        Ok(rules)
    }

    fn fresh(&self) -> Option<Arc<SafetyRules>> {
        let held = self.held.lock().ok()?;
        let (read_at, rules) = held.as_ref()?;
        (read_at.elapsed() < self.refresh).then(|| rules.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

    use super::*;
    use crate::text::safety::Tier;

    async fn add_list(db: &testkit::TestDb, phrase: &str) {
        sqlx::query(
            "insert into safety_keyword_rules (list_version, tier, phrase)
             select max(list_version) + 1, 'high', $1 from safety_keyword_rules",
        )
        .bind(phrase)
        .execute(&db.pool)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_read_list_serves_until_its_refresh_then_the_newest_list_applies() {
        let db = testkit::TestDb::migrated().await.unwrap();
        let pool = db.pool_as("josh_conversation_router").await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let text = "the zebra protocol";
        let cached = RuleCache::default();
        assert!(
            cached
                .current(&mut conn)
                .await
                .unwrap()
                .classify(text)
                .is_none()
        );
        add_list(&db, "zebra protocol").await;
        // Held: the new list is not read yet.
        assert!(
            cached
                .current(&mut conn)
                .await
                .unwrap()
                .classify(text)
                .is_none()
        );
        // Read on every call: the newest list applies at once.
        let always = RuleCache::with_refresh(Duration::ZERO);
        let hit = always.current(&mut conn).await.unwrap().classify(text);
        assert_eq!(hit.map(|h| h.tier), Some(Tier::High));
    }
}
