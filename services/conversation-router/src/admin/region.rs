//! `OpenRegion`: opens a region and activates its waitlist in batches. Each member gets what an
//! open-region registration gets (registration::activate): an active membership, the user in
//! `interviewing`, the conversation at the interview's first step and the opening texts, each
//! once (a rerun finds nobody waiting and sends nothing). An open region that was paused resumes.
//!
//! `CloseRegion`: pauses an open region (`rules.paused = true`, product-rules §8): the matcher
//! starts no LinkUps and sends no invites there, a member asking for one hears the paused text.
//! Memberships, profiles and LinkUps already locked stay as they are; nobody is texted.

use proto::v1::{RegionOpened, RegionState};
use rpc::admin::v1 as api;
use sqlx::{PgConnection, PgPool};
use tonic::Status;

use crate::Context;
use crate::error::RouterError;
use crate::events;
use crate::replies::{self, Origin, Recipient};
use crate::store::{admin as store, identity};
use admin_auth::{Admin, AuditEntry, internal};

/// Members activated per transaction.
const BATCH: i64 = 100;

/// Opens `slug` (resuming it when paused) and activates its waitlist, audited as `region.open`.
pub(super) async fn open(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    slug: &str,
    reason: &str,
) -> Result<api::OpenRegionResponse, Status> {
    let now = ctx.clock.now();
    let origin = Origin::job(now);
    let mut tx = pool.begin().await.map_err(internal)?;
    let region = store::region_for_update(&mut tx, slug)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such region"))?;
    let was = region.state.clone();
    if was != "open" {
        store::open_region(&mut tx, region.id)
            .await
            .map_err(internal)?;
        announce(&mut tx, &origin, admin, slug, &region, now)
            .await
            .map_err(internal)?;
    }
    let resumed = region.paused;
    if resumed {
        pause(&mut tx, &origin, region.id, false)
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    let activated = activate_waitlist(pool, ctx, &origin, region.id, slug).await?;
    let mut tx = pool.begin().await.map_err(internal)?;
    let entry = AuditEntry {
        admin_user_id: admin.id,
        action: "region.open",
        target_type: "region",
        target_id: Some(region.id),
        reason: Some(reason),
        payload: serde_json::json!({
            "role": admin.role.as_str(), "slug": slug, "previous": was, "activated": activated,
            "resumed": resumed,
        }),
    };
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(api::OpenRegionResponse {
        region_id: region.id.to_string(),
        activated,
        resumed,
    })
}

/// Activates the region's waitlist, `BATCH` members per transaction; how many were activated.
async fn activate_waitlist(
    pool: &PgPool,
    ctx: &Context,
    origin: &Origin,
    region_id: uuid::Uuid,
    slug: &str,
) -> Result<i64, Status> {
    let mut activated = 0_i64;
    loop {
        let mut tx = pool.begin().await.map_err(internal)?;
        let batch = store::waitlisted_batch(&mut tx, region_id, BATCH)
            .await
            .map_err(internal)?;
        if batch.is_empty() {
            break;
        }
        for member in &batch {
            activate(&mut tx, ctx, origin, region_id, member)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        activated += i64::try_from(batch.len()).unwrap_or(i64::MAX);
        tracing::info!(region = slug, activated, "waitlist batch activated");
    }
    Ok(activated)
}

/// Pauses `slug` when it is open and not paused yet, audited as `region.close`.
pub(super) async fn close(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    slug: &str,
    reason: &str,
) -> Result<api::CloseRegionResponse, Status> {
    let origin = Origin::job(ctx.clock.now());
    let mut tx = pool.begin().await.map_err(internal)?;
    let region = store::region_for_update(&mut tx, slug)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such region"))?;
    let already_closed = region.paused || region.state != "open";
    if !already_closed {
        pause(&mut tx, &origin, region.id, true)
            .await
            .map_err(internal)?;
    }
    let entry = AuditEntry {
        admin_user_id: admin.id,
        action: "region.close",
        target_type: "region",
        target_id: Some(region.id),
        reason: Some(reason),
        payload: serde_json::json!({
            "role": admin.role.as_str(), "slug": slug, "state": region.state,
            "already_closed": already_closed,
        }),
    };
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(region = slug, already_closed, "region closed");
    Ok(api::CloseRegionResponse {
        region_id: region.id.to_string(),
        already_closed,
        state: region.state,
    })
}

/// Sets or clears the pause and records it in `domain_events` (`region.paused` / `region.resumed`).
async fn pause(
    tx: &mut PgConnection,
    origin: &Origin,
    region_id: uuid::Uuid,
    paused: bool,
) -> Result<(), RouterError> {
    store::set_region_paused(tx, region_id, paused).await?;
    let (event, from_to) = if paused {
        ("region.paused", (Some("open"), Some("paused")))
    } else {
        ("region.resumed", (Some("paused"), Some("open")))
    };
    let key = format!("region:{region_id}:{event}:{}", origin.correlation_id);
    identity::record_transition(tx, "region", region_id, event, from_to, &key, None).await?;
    Ok(())
}

/// Publishes `RegionOpened`.
async fn announce(
    tx: &mut PgConnection,
    origin: &Origin,
    admin: &Admin,
    slug: &str,
    region: &store::RegionRow,
    now: time::OffsetDateTime,
) -> Result<(), RouterError> {
    let previous = match region.state.as_str() {
        "closed" => RegionState::Closed,
        _ => RegionState::Waitlisted,
    };
    let cause = proto::Envelope {
        event_id: origin.correlation_id.clone(),
        correlation_id: origin.correlation_id.clone(),
        occurred_at: origin.occurred_at,
        ..proto::Envelope::default()
    };
    let fact = RegionOpened {
        region_id: region.id.to_string(),
        slug: slug.to_owned(),
        display_name: region.display_name.clone(),
        timezone: region.timezone.clone(),
        previous_state: previous.into(),
        waitlisted_members: u32::try_from(region.waitlisted).unwrap_or(u32::MAX),
        opened_by_admin_id: admin.id.to_string(),
        opened_at: Some(proto::timestamp::to_timestamp(now)),
    };
    let key = format!("region:{}:opened:{}", region.id, origin.correlation_id);
    events::publish(tx, &cause, fact, key, &region.id.to_string()).await
}

/// Activates one waitlisted member and texts them the interview's opening.
async fn activate(
    tx: &mut PgConnection,
    ctx: &Context,
    origin: &Origin,
    region_id: uuid::Uuid,
    member: &store::Waiting,
) -> Result<(), RouterError> {
    let now = ctx.clock.now();
    let user_id = member.user_id;
    store::activate_membership(tx, user_id, region_id).await?;
    identity::set_user_state(tx, user_id, "interviewing").await?;
    let first_step = crate::interview::FIRST_STEP;
    identity::start_conversation(tx, user_id, "interviewing", first_step, now).await?;
    let key = format!("user:{user_id}:activated:{region_id}");
    let transition = (Some("verified"), Some("interviewing"));
    identity::record_transition(tx, "user", user_id, "activated", transition, &key, None).await?;
    let to = Recipient {
        user_id: Some(user_id),
        phone_e164: &member.phone_e164,
        phone_hash: &member.phone_hash,
    };
    for (i, reply) in crate::interview::opening(&member.first_name)
        .iter()
        .enumerate()
    {
        let key = format!("region-open:{region_id}:{user_id}:{i}");
        replies::send(tx, &ctx.keyring, origin, &to, reply, key).await?;
    }
    Ok(())
}
