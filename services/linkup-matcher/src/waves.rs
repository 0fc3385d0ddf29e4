//! One invite wave: search candidates (relaxing when the pool is thin), score and rank them,
//! insert the invites with their explainability, text each person, publish `linkup.invite_sent`.

use proto::v1::{InviteSent, SmsPurpose};
use serde_json::json;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Text, Transition};
use crate::scoring::{self, ActivityPattern, Fingerprint, Floors, Moment, Person, Ranked};
use crate::store::candidates::{self, Candidate, HARD_FILTERS, Search};
use crate::store::{invites, linkups, people};
use crate::{Context, copy};

/// Invites per wave: 6, 6, 8.
pub const WAVE_SIZES: [usize; 3] = [6, 6, 8];
/// Candidates read per search (the query's bound).
pub const POOL_LIMIT: i64 = 300;
/// Longest Twilio validity for an invite text (4 h).
const MAX_VALIDITY: i64 = 4 * 3600;

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

/// Sends wave `wave` of `linkup` (locked by the caller) if it still broadcasts.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup.id, wave))]
pub async fn send_wave(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    wave: i32,
) -> Result<(), MatcherError> {
    if linkup.state != "broadcasting" || linkup.wave_count >= wave {
        return Ok(());
    }
    let size = usize::try_from(wave - 1)
        .ok()
        .and_then(|i| WAVE_SIZES.get(i))
        .copied()
        .unwrap_or(0);
    let deadline = linkup.acceptance_window_ends_at.unwrap_or(cause.at);
    invite(tx, ctx, cause, linkup, (wave, size), deadline).await
}

/// Invites up to `wave.1` people as wave `wave.0`, replying by `window_end`.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
pub async fn invite(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    (wave, size): (i32, usize),
    window_end: OffsetDateTime,
) -> Result<(), MatcherError> {
    let brief = Brief::from_json(&linkup.brief);
    let run_key = format!("{}:wave:{wave}", linkup.id);
    let pick = pick(tx, linkup, &brief, size, &run_key, cause.at).await?;
    let contacts = people::contacts(
        tx,
        &pick.invitees.iter().map(|(u, _)| *u).collect::<Vec<_>>(),
    )
    .await?;
    let options: Vec<String> = brief.options.iter().map(|o| o.label.clone()).collect();
    let offered = (options.len() > 1).then(|| json!(options));
    let whens: Vec<String> = brief.options.iter().map(|o| brief.when(o)).collect();
    let deadline = crate::brief::local_label(window_end, &brief.timezone);
    let validity = (window_end - cause.at)
        .whole_seconds()
        .clamp(60, MAX_VALIDITY);
    let mut sent = 0;
    for (contact, (_, explain)) in contacts.iter().zip(&pick.invitees) {
        let new = invites::NewInvite {
            linkup_id: linkup.id,
            user_id: contact.user_id,
            wave,
            offered_options: offered.clone(),
            explainability: explain,
            expires_at: window_end,
            at: cause.at,
        };
        let Some(invite_id) = invites::insert(tx, &new).await? else {
            continue;
        };
        sent += 1;
        let t = Transition {
            entity_type: "linkup_invite",
            entity_id: invite_id,
            event_type: "linkup.invite_sent",
            from: None,
            to: Some("pending"),
        };
        out::record(tx, cause, t).await?;
        let body = copy::invite(
            &contact.first_name,
            &brief.activity_name,
            &whens,
            &brief.area(),
            &deadline,
        );
        let text = Text {
            to: contact,
            body,
            purpose: SmsPurpose::Invite,
            idempotency_key: format!("invite-sms:{invite_id}"),
            linkup_id: linkup.id,
            validity_seconds: u32::try_from(validity).unwrap_or(0),
            timezone: &brief.timezone,
        };
        out::send(tx, ctx, cause, text).await?;
        let event = InviteSent {
            invite_id: invite_id.to_string(),
            linkup_id: linkup.id.to_string(),
            invited_user_id: contact.user_id.to_string(),
            wave: u32::try_from(wave).unwrap_or(0),
            expires_at: Some(proto::timestamp::to_timestamp(window_end)),
            offered_options: if options.len() > 1 {
                options.clone()
            } else {
                Vec::new()
            },
            sent_at: Some(proto::timestamp::to_timestamp(cause.at)),
        };
        out::publish(
            tx,
            cause,
            event,
            format!("linkup.invite_sent:{invite_id}"),
            contact.user_id.to_string(),
        )
        .await?;
    }
    let params = json!({"weights": {"ffs": 0.30, "act": 0.25, "time": 0.15, "comms": 0.10, "prox": 0.10, "rel": 0.05, "nov": 0.05},
                        "wave_size": size, "pool_limit": POOL_LIMIT, "floors": floor_json(Floors::at_level(pick.level)),
                        "cooldown_days": cooldown_days(pick.level)});
    let run = invites::Run {
        linkup_id: linkup.id,
        wave,
        run_key: &run_key,
        parameters: &params,
        relaxation_level: i32::from(pick.level),
        pool_size: count(pick.pool),
        invited_count: sent,
        at: cause.at,
    };
    invites::record_run(tx, &run).await?;
    linkups::bump_wave_count(tx, linkup.id, wave).await?;
    tracing::info!(
        invited = sent,
        pool = pick.pool,
        level = pick.level,
        "wave sent"
    );
    Ok(())
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn floor_json(f: Floors) -> serde_json::Value {
    json!({"friend": f.friend, "moment": f.moment})
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
    let window = brief.window();
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
        let moment = Moment {
            activity_key: brief.activity_key.clone(),
            motives: brief.motives.clone(),
            window_tags: window
                .map(|w| w.tags().into_iter().map(str::to_owned).collect())
                .unwrap_or_default(),
            adjacent_tags: if level >= 1 {
                window
                    .map(|w| {
                        w.adjacent()
                            .iter()
                            .map(|a| a.part.tag().to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            },
        };
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

/// When a wave due now would still make sense: before the window's end.
pub fn still_open(linkup: &linkups::Linkup, now: OffsetDateTime) -> bool {
    linkup.state == "broadcasting"
        && linkup
            .acceptance_window_ends_at
            .is_some_and(|end| now < end - Duration::minutes(1))
}
