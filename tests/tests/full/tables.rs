//! The final state of every table the journey touches, read as the superuser and shown with
//! first names instead of ids and local times instead of timestamps, so it can be compared
//! with what the product rules say the story leaves behind.

use super::System;

/// Each table's rows as `|`-joined text, in a stable order. `$name(col)` shows a user id as a
/// first name; `$at(col)` a timestamp in the region's local time.
const VIEWS: &[(&str, &str)] = &[
    (
        "users",
        "select concat_ws('|', u.first_name, u.state, u.zip_code, r.slug, u.opted_out_at is null)
           from users u left join regions r on r.id = u.region_id order by 1",
    ),
    (
        "profiles",
        "select concat_ws('|', $name(p.user_id), p.state, p.active_intent->>'activity_key',
                          p.completed_at is not null)
           from profiles p order by 1",
    ),
    (
        "region_memberships",
        "select concat_ws('|', $name(user_id), status) from region_memberships order by 1",
    ),
    (
        "subscriptions",
        "select concat_ws('|', $name(user_id), state, cancel_at_period_end, revoked_at is null)
           from subscriptions order by 1",
    ),
    (
        "entitlements",
        "select concat_ws('|', $name(user_id), eligible_to_initiate, eligible_to_participate, reason)
           from entitlements order by 1",
    ),
    (
        "linkups",
        "select concat_ws('|', $name(initiator_user_id), state, brief->>'activity_key',
                          brief->>'time_window', min_size, max_size, wave_count,
                          $at(broadcast_started_at), $at(locked_at), $at(event_time),
                          $at(completed_at), $at(post_event_initiated_at))
           from linkups order by 1",
    ),
    (
        "linkup_invites",
        "select concat_ws('|', $name(invited_user_id), wave_number, state, $at(sent_at),
                          $at(responded_at), $at(closed_at))
           from linkup_invites order by wave_number, 1",
    ),
    (
        "linkup_participants",
        "select concat_ws('|', $name(user_id), role, status, $at(joined_at))
           from linkup_participants order by 1",
    ),
    (
        "linkup_reminders",
        "select concat_ws('|', reminder_type, status, $at(scheduled_for), $at(sent_at))
           from linkup_reminders order by 1",
    ),
    (
        "linkup_outcomes",
        "select concat_ws('|', $name(user_id), attendance_response, do_again, feedback is null)
           from linkup_outcomes order by 1",
    ),
    (
        "contact_exchange_choices",
        "select concat_ws('|', $name(chooser_user_id), $name(target_user_id), choice)
           from contact_exchange_choices order by 1",
    ),
    (
        "contact_exchanges",
        "select concat_ws('|', least($name(user_a_id), $name(user_b_id)),
                          greatest($name(user_a_id), $name(user_b_id)), $at(revealed_at))
           from contact_exchanges order by 1",
    ),
    (
        "sms_messages",
        "select concat_ws('|', direction, coalesce(status, '-'), count(*),
                          count(*) filter (where user_id is null),
                          count(*) filter (where body_ciphertext is null))
           from sms_messages group by direction, status order by 1",
    ),
    (
        "sms_outbound_jobs",
        "select concat_ws('|', status, coalesce(delivery_status, '-'), count(*),
                          count(*) filter (where twilio_message_sid is null))
           from sms_outbound_jobs group by status, delivery_status order by 1",
    ),
    (
        "unfinished",
        "select concat_ws('|', 'outbox unpublished', count(*)) from event_outbox
           where published_at is null
         union all select concat_ws('|', 'stripe events unprocessed or failed', count(*))
           from stripe_events where processed_at is null or processing_error is not null
         union all select concat_ws('|', 'safety incidents', count(*)) from safety_incidents
         union all select concat_ws('|', 'safety holds', count(*)) from safety_holds",
    ),
];

/// Every view, rendered.
pub async fn snapshot(s: &System) -> String {
    let mut out = String::new();
    for (table, sql) in VIEWS {
        let sql = sql.replace("$name(", "(select first_name from users where id = ");
        let sql = expand_local(&sql.replace("$at(", "to_char_local("));
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&s.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        out.push_str(&format!("{table}:\n"));
        for row in rows {
            out.push_str(&format!("  {row}\n"));
        }
    }
    out
}

/// `to_char_local(x)` → x shown as `Dy HH24:MI` in Los Angeles time (or `-` when null).
fn expand_local(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find("to_char_local(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "to_char_local(".len()..];
        let end = after.find(')').unwrap();
        let column = &after[..end];
        out.push_str(&format!(
            "coalesce(to_char({column} at time zone 'America/Los_Angeles', 'Dy HH24:MI'), '-')"
        ));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}
