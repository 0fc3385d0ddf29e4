//! The candidate query: every hard filter of product-rules section 5 in SQL, over the active
//! members of one region, bounded by a user-id range and a limit so that it walks the
//! `region_memberships_region_active_idx` index and stops early in a large region.

use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The hard filters, by the names recorded in each invite's explainability.
pub const HARD_FILTERS: [&str; 14] = [
    "same_open_region",
    "active_account",
    "entitled",
    "not_on_hold",
    "not_blocked",
    "cooldown",
    "no_overlapping_linkup",
    "profile_complete",
    "opted_in",
    "invites_not_paused",
    "boundaries_allow_activity",
    "free_in_window",
    "not_already_invited",
    "fair_exposure",
];

/// Most open invites a person holds at once.
pub const MAX_OPEN_INVITES: i64 = 2;
/// Most invites a person gets in 7 days.
pub const MAX_WEEKLY_INVITES: i64 = 5;

/// What one search looks for.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// The LinkUp (its invitees are excluded).
    pub linkup_id: Uuid,
    /// Its region.
    pub region_id: Uuid,
    /// Initiator and accepted invitees: blocks and cooldown are checked against them.
    pub members: &'a [Uuid],
    /// The initiator.
    pub initiator: Uuid,
    /// Activity key and category (boundaries may name either).
    pub activity: (&'a str, &'a str),
    /// The time window bucket (profiles may mark it unavailable).
    pub window: &'a str,
    /// When the event would run.
    pub event_span: (OffsetDateTime, OffsetDateTime),
    /// Days since a shared LinkUp with the initiator before they may meet again.
    pub cooldown_days: i64,
    /// Now.
    pub now: OffsetDateTime,
}

/// One eligible person and the signals scoring needs.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// users.id.
    pub user_id: Uuid,
    /// profiles.fingerprint.
    pub fingerprint: serde_json::Value,
    /// profiles.activity_patterns.
    pub activity_patterns: serde_json::Value,
    /// Their latest invite.
    pub last_invited_at: Option<OffsetDateTime>,
    /// Outcomes and mutual exchanges on record.
    pub outcome_count: i64,
    /// Sum of reliability deltas over them (product-rules section 5, mutual exchange +0.02).
    pub reliability_delta: f64,
    /// In a LinkUp with the initiator before.
    pub met_before: bool,
}

/// Up to `limit` eligible people with `lo <= user_id < hi`, in user-id order.
#[tracing::instrument(skip_all, fields(linkup_id = %s.linkup_id, limit))]
pub async fn find(
    tx: &mut PgConnection,
    s: &Search<'_>,
    range: (Uuid, Uuid),
    limit: i64,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let cooldown_since = s.now - Duration::days(s.cooldown_days);
    let week_ago = s.now - Duration::days(7);
    // An overlapping LinkUp: one whose event starts within 3 h either side of this one's span.
    let (busy_from, busy_to) = (
        s.event_span.0 - Duration::hours(3),
        s.event_span.1 + Duration::hours(3),
    );
    sqlx::query_as!(
        Candidate,
        r#"select c.user_id as "user_id!", c.fingerprint as "fingerprint!", c.activity_patterns as "activity_patterns!",
                  c.last_invited_at, c.outcome_count as "outcome_count!",
                  c.reliability_delta as "reliability_delta!", c.met_before as "met_before!"
           from region_memberships m
           -- LATERAL (fenced by OFFSET 0): every filter runs as index lookups for one member at a
           -- time, so the scan walks region_memberships_region_active_idx from the pivot and stops
           -- at the limit, whatever the range.
           cross join lateral (
             select u.id as user_id, p.fingerprint, p.activity_patterns,
                    (select max(i.sent_at) from linkup_invites i where i.invited_user_id = u.id) as last_invited_at,
                    (select count(*) from linkup_outcomes o where o.user_id = u.id) + x.exchanges as outcome_count,
                    (coalesce((select sum(case o.attendance_response when 'attended' then 0.05
                                            when 'no_show' then -0.10 when 'unsure' then -0.02 else 0 end
                                        + case o.do_again when true then 0.03 when false then -0.03 else 0 end)
                               from linkup_outcomes o where o.user_id = u.id), 0) + 0.02 * x.exchanges)::float8
                      as reliability_delta,
                    exists(select 1 from linkup_participants a join linkup_participants b on b.linkup_id = a.linkup_id
                           where a.user_id = $4 and b.user_id = u.id) as met_before
             from users u
             join profiles p on p.user_id = u.id
             join entitlements e on e.user_id = u.id
             cross join lateral (select count(*) as exchanges from contact_exchanges x
                                 where x.user_a_id = m.user_id or x.user_b_id = m.user_id) x
             where u.id = m.user_id
               and u.id <> all($3)
               and u.state = 'active' and u.deleted_at is null and u.suspended_at is null
               and e.eligible_to_participate and (e.expires_at is null or e.expires_at > $9)
               and not exists(select 1 from safety_holds h where h.user_id = m.user_id and h.state <> 'none'
                              and h.cleared_at is null and (h.expires_at is null or h.expires_at > $9))
               and not exists(select 1 from user_blocks b
                              where (b.blocker_user_id = m.user_id and b.blocked_user_id = any($3))
                                 or (b.blocked_user_id = m.user_id and b.blocker_user_id = any($3)))
               and not exists(select 1 from linkup_participants a
                              join linkup_participants b on b.linkup_id = a.linkup_id
                              join linkups l on l.id = a.linkup_id
                              where a.user_id = $4 and b.user_id = m.user_id and l.locked_at >= $10)
               and not exists(select 1 from linkup_participants pp join linkups l on l.id = pp.linkup_id
                              where pp.user_id = m.user_id and pp.status = 'confirmed' and l.state = 'locked'
                                and l.event_time between $11 and $12)
               and p.state in ('complete_mvp', 'complete_full', 'stale') -- stale still takes part (product-rules §3)
               and u.sms_consent and u.opted_out_at is null
               and coalesce(p.preferences->'invites_paused', 'false'::jsonb) <> 'true'::jsonb
               and not (coalesce(p.boundaries->'no_thanks', '[]'::jsonb) ?| array[$5, $6])
               and not (coalesce(p.preferences->'unavailable_windows', '[]'::jsonb) ? $7)
               and not exists(select 1 from linkup_invites i where i.linkup_id = $2 and i.invited_user_id = m.user_id)
               and (select count(*) from linkup_invites i
                    where i.invited_user_id = m.user_id and i.state = 'pending') < $15
               and (select count(*) from linkup_invites i
                    where i.invited_user_id = m.user_id and i.sent_at > $8) < $16
             offset 0 -- a fence: never flattened into a join the planner may reorder
           ) c
           where m.region_id = $1 and m.status = 'active' and m.user_id >= $13 and m.user_id < $14
             and exists(select 1 from regions r where r.id = $1 and r.state = 'open'
                        and coalesce(r.rules->'paused', 'false'::jsonb) <> 'true'::jsonb)
           order by m.user_id
           limit $17"#,
        s.region_id,
        s.linkup_id,
        s.members,
        s.initiator,
        s.activity.0,
        s.activity.1,
        s.window,
        week_ago,
        s.now,
        cooldown_since,
        busy_from,
        busy_to,
        range.0,
        range.1,
        MAX_OPEN_INVITES,
        MAX_WEEKLY_INVITES,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}
