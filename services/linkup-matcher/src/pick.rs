//! Choosing a wave's invitees: the bounded candidate search (relaxing level by level while the
//! pool is thin), v1 scoring against the group and the brief, soft floors, deterministic ranking,
//! and each pick's explainability.

use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::scoring::{self, ActivityPattern, Fingerprint, Floors, Moment, Person, Ranked};
use crate::store::candidates::{self, Candidate, HARD_FILTERS, Search};
use crate::store::{invites, linkups, people};

/// Candidates read per search (the query's bound).
pub const POOL_LIMIT: i64 = 300;

/// The wave's pick: ranked candidates, each with their explainability, and the level used.
#[derive(Debug, Clone)]
pub struct Pick {
    /// (user, explainability), best first.
    pub invitees: Vec<(Uuid, serde_json::Value)>,
    /// Relaxation level 0-3.
    pub level: u8,
    /// Candidates that passed the hard filters at that level.
    pub pool: usize,
}

/// The cooldown with the initiator at a relaxation level (L3: 30 → 14 days).
pub fn cooldown_days(level: u8) -> i64 {
    if level >= 3 { 14 } else { 30 }
}

/// Searches, scores and ranks up to `size` invitees, relaxing level by level while fewer than
/// three times the wave size clear the floors.
///
/// # Errors
/// [`MatcherError::Database`] when a read fails.
pub async fn pick(
    tx: &mut PgConnection,
    linkup: &linkups::Linkup,
    brief: &Brief,
    size: usize,
    run_key: &str,
    now: OffsetDateTime,
) -> Result<Pick, MatcherError> {
    let mut members = vec![linkup.initiator_user_id];
    members.extend(
        invites::accepted(tx, linkup.id)
            .await?
            .into_iter()
            .map(|(u, _)| u),
    );
    let member_people = persons(tx, &members).await?;
    let first = brief.options.first();
    let span = first.map_or((now, now), |o| (o.starts, o.ends));
    let mut best = Pick {
        invitees: Vec::new(),
        level: 0,
        pool: 0,
    };
    // Levels 1 and 2 change only floors and time words: the rows of the last search are reused
    // until the cooldown changes (level 3).
    let mut cached: Option<(i64, Vec<Candidate>)> = None;
    for level in 0..=3u8 {
        let search = Search {
            linkup_id: linkup.id,
            region_id: linkup.region_id,
            members: &members,
            initiator: linkup.initiator_user_id,
            activity: (&brief.activity_key, &brief.category),
            window: &first.map(|o| o.window.clone()).unwrap_or_default(),
            event_span: span,
            cooldown_days: cooldown_days(level),
            now,
        };
        let found = match cached.take() {
            Some((cooldown, rows)) if cooldown == search.cooldown_days => rows,
            _ => search_pool(tx, &search, run_key).await?,
        };
        let moment = moment_at(brief, level);
        let refs: Vec<&Person> = member_people.iter().collect();
        let (ranked, explained) = score_pool(
            &refs,
            &found,
            &moment,
            (Floors::at_level(level), level, size),
            run_key,
            linkup.initiator_user_id,
        );
        let enough = ranked.len() >= 3 * size;
        best = Pick {
            invitees: ranked
                .into_iter()
                .zip(explained)
                .map(|(r, e)| (r.user_id, e))
                .collect(),
            level,
            pool: found.len(),
        };
        cached = Some((search.cooldown_days, found));
        if enough {
            break;
        }
    }
    Ok(best)
}

/// What scoring compares against at relaxation `level` (level 1 and up: adjacent time words
/// count half).
fn moment_at(brief: &Brief, level: u8) -> Moment {
    let window = brief.window();
    let tags = window.map(|w| w.tags().into_iter().map(str::to_owned).collect());
    let adjacent = window.filter(|_| level >= 1).map(|w| {
        w.adjacent()
            .iter()
            .map(|a| a.part.tag().to_owned())
            .collect()
    });
    Moment {
        activity_key: brief.activity_key.clone(),
        motives: brief.motives.clone(),
        window_tags: tags.unwrap_or_default(),
        adjacent_tags: adjacent.unwrap_or_default(),
    }
}

/// The bounded search: from a start point derived from the run key, wrapping around once.
async fn search_pool(
    tx: &mut PgConnection,
    search: &Search<'_>,
    run_key: &str,
) -> Result<Vec<Candidate>, MatcherError> {
    let pivot = Uuid::from_u64_pair(scoring::tie_hash(Uuid::nil(), Uuid::nil(), run_key), 0);
    let mut found = candidates::find(tx, search, (pivot, Uuid::max()), POOL_LIMIT).await?;
    let missing = POOL_LIMIT - i64::try_from(found.len()).unwrap_or(POOL_LIMIT);
    if missing > 0 {
        found.extend(candidates::find(tx, search, (Uuid::nil(), pivot), missing).await?);
    }
    Ok(found)
}

fn score_pool(
    members: &[&Person],
    found: &[Candidate],
    moment: &Moment,
    (floors, level, size): (Floors, u8, usize),
    run_key: &str,
    subject: Uuid,
) -> (Vec<Ranked>, Vec<serde_json::Value>) {
    let mut ranked = Vec::new();
    let mut people_by_id = std::collections::HashMap::new();
    for c in found {
        let person = Person {
            user_id: c.user_id,
            fingerprint: Fingerprint::from_json(&c.fingerprint),
            patterns: ActivityPattern::list_from_json(&c.activity_patterns),
            reliability: scoring::reliability(c.outcome_count, c.reliability_delta),
            met_before: Some(c.met_before),
        };
        let score = scoring::score(members, &person, moment);
        if floors.pass(&score) {
            ranked.push(Ranked {
                user_id: c.user_id,
                score,
                last_invited_at: c.last_invited_at,
            });
            people_by_id.insert(c.user_id, person);
        }
    }
    scoring::rank(&mut ranked, subject, run_key);
    let explained = ranked
        .iter()
        .take(size)
        .map(|r| {
            let reasons = match (members.first(), people_by_id.get(&r.user_id)) {
                (Some(s), Some(p)) => scoring::top_reasons(s, p, moment, &r.score),
                _ => Vec::new(),
            };
            explain(r, &reasons, level)
        })
        .collect();
    (ranked, explained)
}

/// The invite's explainability JSON (never private attributes, safety state or location).
fn explain(r: &Ranked, reasons: &[String], level: u8) -> serde_json::Value {
    let c = r.score.components;
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    let opt = |v: Option<f64>| v.map(round);
    let mut passed: Vec<&str> = HARD_FILTERS.to_vec();
    let mut relaxed = Vec::new();
    if level >= 1 {
        relaxed.push("time_window_adjacent");
        relaxed.push("activity_floor_0.45");
    }
    if level >= 2 {
        relaxed.push("radius_wider");
    }
    if level >= 3 {
        relaxed.push("cooldown_14_days");
        passed.retain(|f| *f != "cooldown");
        passed.push("cooldown_14_days");
    }
    json!({
        "scoring_version": scoring::VERSION,
        "friend_score": round(r.score.friend),
        "moment_fit": round(r.score.moment),
        "final_score": round(r.score.final_score),
        "components": {"ffs": opt(c.ffs), "act": round(c.act), "time": opt(c.time), "comms": opt(c.comms),
                       "prox": round(c.prox), "rel": opt(c.rel), "nov": opt(c.nov)},
        "filters": {"passed": passed, "failed": []},
        "top_reasons": reasons,
        "relaxation": {"level": level, "relaxed": relaxed},
    })
}

/// Scoring's view of `users` (those without a profile are skipped).
async fn persons(tx: &mut PgConnection, users: &[Uuid]) -> Result<Vec<Person>, MatcherError> {
    let rows = people::profiles(tx, users).await?;
    let mut out: Vec<Person> = rows
        .into_iter()
        .map(|(user_id, fp, ap)| Person {
            user_id,
            fingerprint: Fingerprint::from_json(&fp),
            patterns: ActivityPattern::list_from_json(&ap),
            reliability: None,
            met_before: None,
        })
        .collect();
    // The initiator first: reasons and the subject's own pattern are theirs.
    out.sort_by_key(|p| users.iter().position(|u| *u == p.user_id));
    Ok(out)
}
