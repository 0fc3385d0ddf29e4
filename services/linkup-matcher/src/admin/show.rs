//! `ShowLinkup` and `ListLinkups`: what a LinkUp is and was, and a person's LinkUps. Views are
//! audited (`linkup.show`, `linkup.list`).

use admin_auth::{Admin, AuditEntry, internal};
use proto::timestamp::{to_timestamp, to_timestamp_opt};
use rpc::admin::v1 as api;
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::brief::Brief;
use crate::store::admin::{self as store, InviteRow, LinkupRow, MemberRow, SummaryRow, WaveRow};

/// How many LinkUps a list shows by default, and at most.
const LIST_DEFAULT: u32 = 20;
const LIST_MAX: u32 = 100;

/// One LinkUp in full, or `NOT_FOUND`.
pub(super) async fn linkup(
    pool: &PgPool,
    admin: &Admin,
    id: Uuid,
) -> Result<api::LinkupView, Status> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let row = store::linkup(&mut tx, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such LinkUp"))?;
    let members = store::members(&mut tx, id).await.map_err(internal)?;
    let invites = store::invites(&mut tx, id).await.map_err(internal)?;
    let waves = store::waves(&mut tx, id).await.map_err(internal)?;
    let entry = AuditEntry::new(admin, "linkup.show", "linkup")
        .target(id)
        .with("state", row.state.as_str());
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    let mut view = view(row);
    view.members = members.into_iter().map(member).collect();
    view.invites = invites.into_iter().map(invite).collect();
    view.waves = waves.into_iter().map(wave).collect();
    Ok(view)
}

/// `user`'s LinkUps, newest first.
pub(super) async fn of_user(
    pool: &PgPool,
    admin: &Admin,
    user: Uuid,
    limit: u32,
) -> Result<api::ListLinkupsResponse, Status> {
    let limit = if limit == 0 {
        LIST_DEFAULT
    } else {
        limit.min(LIST_MAX)
    };
    let mut tx = pool.begin().await.map_err(internal)?;
    let rows = store::of_user(&mut tx, user, i64::from(limit))
        .await
        .map_err(internal)?;
    let entry = AuditEntry::new(admin, "linkup.list", "user")
        .target(user)
        .with("linkups", rows.len());
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(api::ListLinkupsResponse {
        linkups: rows.into_iter().map(summary).collect(),
    })
}

fn view(row: LinkupRow) -> api::LinkupView {
    let brief = Brief::from_json(&row.brief);
    api::LinkupView {
        linkup_id: row.id.to_string(),
        state: row.state,
        brief: Some(api::LinkupBriefView {
            activity: brief.activity_name,
            windows: brief.options.into_iter().map(|o| o.window).collect(),
            region: row.region.unwrap_or_default(),
            min_size: row.min_size,
            max_size: row.max_size,
            timezone: brief.timezone,
            location_hint: brief.location_hint,
        }),
        initiator_user_id: row.initiator_user_id.to_string(),
        initiator_first_name: row.initiator_first_name.unwrap_or_default(),
        members: Vec::new(),
        invites: Vec::new(),
        waves: Vec::new(),
        canceled_reason: row.canceled_reason.unwrap_or_default(),
        lock_version: row.lock_version,
        created_at: Some(to_timestamp(row.created_at)),
        broadcast_started_at: to_timestamp_opt(row.broadcast_started_at),
        acceptance_window_ends_at: to_timestamp_opt(row.acceptance_window_ends_at),
        locked_at: to_timestamp_opt(row.locked_at),
        event_time: to_timestamp_opt(row.event_time),
        completed_at: to_timestamp_opt(row.completed_at),
        updated_at: Some(to_timestamp(row.updated_at)),
    }
}

fn member(m: MemberRow) -> api::LinkupMember {
    api::LinkupMember {
        user_id: m.user_id.to_string(),
        first_name: m.first_name.unwrap_or_default(),
        role: m.role,
        status: m.status,
        joined_at: Some(to_timestamp(m.joined_at)),
        left_at: to_timestamp_opt(m.left_at),
    }
}

fn invite(i: InviteRow) -> api::LinkupInviteView {
    api::LinkupInviteView {
        invite_id: i.id.to_string(),
        user_id: i.user_id.to_string(),
        first_name: i.first_name.unwrap_or_default(),
        wave: i.wave,
        state: i.state,
        selected_option: i.selected_option.unwrap_or_default(),
        sent_at: to_timestamp_opt(i.sent_at),
        responded_at: to_timestamp_opt(i.responded_at),
        expires_at: to_timestamp_opt(i.expires_at),
        closed_at: to_timestamp_opt(i.closed_at),
    }
}

fn wave(w: WaveRow) -> api::LinkupWave {
    api::LinkupWave {
        wave: w.wave,
        relaxation_level: w.relaxation_level,
        pool_size: w.pool_size.unwrap_or_default(),
        invited_count: w.invited_count.unwrap_or_default(),
        at: Some(to_timestamp(w.started_at)),
    }
}

fn summary(s: SummaryRow) -> api::LinkupSummary {
    api::LinkupSummary {
        linkup_id: s.id.to_string(),
        state: s.state,
        activity: s.activity.unwrap_or_default(),
        relation: s.relation,
        status: s.status.unwrap_or_default(),
        event_time: to_timestamp_opt(s.event_time),
        created_at: Some(to_timestamp(s.created_at)),
    }
}
