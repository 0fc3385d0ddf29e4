//! `ExportUser`'s SQL: the router's rows about one person as one JSON document (table -> rows),
//! built by Postgres in one statement. Every column of the person's own rows is included
//! except secrets (code and token hashes, the phone hash) and other people's data (who reported
//! them, whom they reported or blocked, which admin held them).

use sqlx::PgConnection;
use uuid::Uuid;

/// The document, or `None` when there is no such user.
#[tracing::instrument(skip_all)]
pub async fn user_document(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select jsonb_build_object(
             'users', jsonb_build_array(to_jsonb(u) - 'phone_hash'),
             'sms_registrations', (select coalesce(jsonb_agg(to_jsonb(r) - 'phone_hash'
                    order by r.created_at, r.id), '[]') from sms_registrations r
                    where r.user_id = u.id or r.phone_hash = u.phone_hash),
             'region_memberships', (select coalesce(jsonb_agg(to_jsonb(m)
                    || jsonb_build_object('region', g.slug) order by m.joined_at, m.id), '[]')
                    from region_memberships m join regions g on g.id = m.region_id
                    where m.user_id = u.id),
             'profiles', (select coalesce(jsonb_agg(to_jsonb(p)), '[]') from profiles p
                    where p.user_id = u.id),
             'profile_events', (select coalesce(jsonb_agg(to_jsonb(e)
                    order by e.created_at, e.id), '[]') from profile_events e
                    where e.user_id = u.id),
             'conversation_sessions', (select coalesce(jsonb_agg(to_jsonb(s)), '[]')
                    from conversation_sessions s where s.user_id = u.id),
             'otp_sessions', (select coalesce(jsonb_agg(to_jsonb(o) - 'otp_hash'
                    order by o.created_at, o.id), '[]') from otp_sessions o
                    where o.user_id = u.id),
             'magic_links', (select coalesce(jsonb_agg(to_jsonb(l) - 'token_hash'
                    order by l.created_at, l.id), '[]') from magic_links l
                    where l.user_id = u.id),
             'safety_holds', (select coalesce(jsonb_agg(to_jsonb(h) - 'applied_by_admin'
                    order by h.created_at, h.id), '[]') from safety_holds h
                    where h.user_id = u.id),
             'user_strikes', (select coalesce(jsonb_agg(to_jsonb(k)
                    order by k.created_at, k.id), '[]') from user_strikes k
                    where k.user_id = u.id),
             'safety_incidents', (select coalesce(jsonb_agg(to_jsonb(i) - 'reporter_user_id'
                    - 'reporter_phone_hash' order by i.created_at, i.id), '[]')
                    from safety_incidents i where i.user_id = u.id),
             'safety_reports_filed', (select coalesce(jsonb_agg(to_jsonb(f)
                    - 'reported_user_id' - 'reporter_phone_hash' order by f.created_at, f.id),
                    '[]') from safety_reports f where f.reporter_user_id = u.id),
             'safety_reports_about', (select coalesce(jsonb_agg(jsonb_build_object(
                    'id', a.id, 'report_type', a.report_type, 'status', a.status,
                    'created_at', a.created_at) order by a.created_at, a.id), '[]')
                    from safety_reports a where a.reported_user_id = u.id),
             'user_blocks', (select coalesce(jsonb_agg(to_jsonb(b) - 'blocked_user_id'
                    order by b.created_at, b.id), '[]') from user_blocks b
                    where b.blocker_user_id = u.id),
             'phone_opt_outs', (select coalesce(jsonb_agg(to_jsonb(x) - 'phone_hash'
                    order by x.created_at), '[]') from phone_opt_outs x
                    where x.user_id = u.id or x.phone_hash = u.phone_hash)
           ) as "document!"
           from users u where u.id = $1"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await
}
