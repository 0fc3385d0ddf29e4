//! Registration over HTTP (product-rules §2): the form creates an unverified user and texts a
//! 6-digit code (only its keyed hash is stored; 10 minutes; 5 wrong tries kill it; a resend
//! replaces it; 30 s between sends; 3 codes a phone an hour; per-address limits). The right
//! code verifies the user, who then lands exactly where the SMS path lands.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use proto::Envelope;
use proto::v1::{Channel, SmsPurpose};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{ApiError, ApiState, client_ip};
use crate::registration::{self, Verified};
use crate::replies::{self, Origin, Recipient, Reply};
use crate::store::identity::{self, NewUser};
use crate::store::otp;
use crate::text::registration::{self as parse, RegistrationError};
use crate::{Context, copy};

/// A code works this long.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong tries that kill a code.
pub const MAX_ATTEMPTS: i32 = 5;
/// Codes a phone may get an hour.
pub const CODES_PER_HOUR: i32 = 3;
/// Minimum time between two codes.
pub const RESEND_GAP: Duration = Duration::seconds(30);
/// Registration requests a client address may make an hour.
pub const REGISTRATIONS_PER_IP_HOUR: i32 = 10;
/// Verification attempts a client address may make an hour.
pub const VERIFICATIONS_PER_IP_HOUR: i32 = 30;

#[derive(Debug, Deserialize)]
pub(super) struct Form {
    phone: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    birthday: Option<String>,
    zip: Option<String>,
    email: Option<String>,
    #[serde(default)]
    consents: Consents,
}

#[derive(Debug, Default, Deserialize)]
struct Consents {
    sms: Option<bool>,
    age: Option<bool>,
    terms: Option<bool>,
    privacy: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(super) struct VerifyForm {
    phone: Option<String>,
    code: Option<String>,
}

fn json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Malformed(e.to_string()))
}

fn invalid(field: &'static str, message: &'static str) -> ApiError {
    ApiError::Invalid { field, message }
}

fn phone(raw: Option<&str>) -> Result<String, ApiError> {
    let raw = raw.ok_or(invalid("phone", "required"))?;
    crypto::normalize_e164(raw).map_err(|_| {
        invalid(
            "phone",
            "not a phone number in E.164 form, like +14155550100",
        )
    })
}

/// `POST /v1/registrations`.
#[tracing::instrument(skip_all)]
pub(super) async fn register(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form: Form = json(&body)?;
    let ctx = &state.ctx;
    let now = ctx.clock.now();
    let e164 = phone(form.phone.as_deref())?;
    let first = parse::name(form.first_name.as_deref().unwrap_or_default())
        .map_err(|_| invalid("first_name", "required, letters only"))?;
    let last = parse::name(form.last_name.as_deref().unwrap_or_default())
        .map_err(|_| invalid("last_name", "required, letters only"))?;
    let birthday = parse::birthday(form.birthday.as_deref().unwrap_or_default(), now.date())
        .map_err(|e| match e {
            RegistrationError::Underage => invalid("birthday", "JOSH is for adults 18 and over"),
            _ => invalid("birthday", "required, like 1990-05-17"),
        })?;
    let zip = parse::zip(form.zip.as_deref().unwrap_or_default())
        .map_err(|_| invalid("zip", "a 5-digit US ZIP code"))?;
    let email = form
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if email.is_some_and(|e| !e.contains('@') || e.len() > 254) {
        return Err(invalid("email", "not an email address"));
    }
    let c = &form.consents;
    for (field, given) in [
        ("consents.sms", c.sms),
        ("consents.age", c.age),
        ("consents.terms", c.terms),
        ("consents.privacy", c.privacy),
    ] {
        if given != Some(true) {
            return Err(invalid(field, "must be given to join"));
        }
    }
    let mut tx = state.pool.begin().await?;
    let ip = client_ip(&headers, peer);
    if otp::hit(&mut tx, "register_ip", &ip, now, Duration::hours(1)).await?
        > REGISTRATIONS_PER_IP_HOUR
    {
        return Err(ApiError::TooMany(
            "too many registrations from this address; try later",
        ));
    }
    let phone_hash = ctx.phone_pepper.hash(&e164);
    let region = identity::region_by_zip(&mut tx, &zip).await?;
    let new_user = NewUser {
        phone_e164: &e164,
        phone_hash: &phone_hash,
        first_name: &first,
        last_name: &last,
        birthday,
        zip_code: &zip,
        region_id: region.map(|r| r.id),
        consented_at: now,
    };
    let user_id = match identity::create_unverified_user(&mut tx, &new_user, email).await? {
        Some(id) => id,
        None => return Err(ApiError::Conflict),
    };
    send_code(&mut tx, ctx, user_id, &e164, &phone_hash).await?;
    tx.commit().await?;
    let body = json!({ "user_id": user_id, "status": "unverified", "code_expires_in_seconds": CODE_TTL.whole_seconds() });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `POST /v1/registrations/resend`: a new code for a registration still waiting for one.
#[tracing::instrument(skip_all)]
pub(super) async fn resend(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form: VerifyForm = json(&body)?;
    let e164 = phone(form.phone.as_deref())?;
    let ctx = &state.ctx;
    let phone_hash = ctx.phone_pepper.hash(&e164);
    let mut tx = state.pool.begin().await?;
    let Some(account) = identity::account_by_phone_hash(&mut tx, &phone_hash).await? else {
        return Err(ApiError::NotFound);
    };
    let user_id = account.id;
    if account.state != "unverified" {
        return Err(ApiError::Conflict);
    }
    send_code(&mut tx, ctx, user_id, &e164, &phone_hash).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": "unverified" })),
    ))
}

/// Texts a fresh code, replacing the open one, within the sending limits.
async fn send_code(
    tx: &mut PgConnection,
    ctx: &Context,
    user_id: Uuid,
    e164: &str,
    phone_hash: &str,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let open = otp::open_code(tx, user_id).await?;
    if open
        .and_then(|o| o.sent_at)
        .is_some_and(|at| now - at < RESEND_GAP)
    {
        return Err(ApiError::TooMany(
            "wait 30 seconds before asking for another code",
        ));
    }
    if otp::hit(tx, "otp_phone", phone_hash, now, Duration::hours(1)).await? > CODES_PER_HOUR {
        return Err(ApiError::TooMany("at most 3 codes an hour for one phone"));
    }
    let code = crypto::generate_otp();
    let hash = ctx.otp_key.hash(&code, &user_id.to_string());
    otp::replace_code(tx, user_id, &hash, now, now + CODE_TTL).await?;
    let to = Recipient {
        user_id: Some(user_id),
        phone_e164: e164,
        phone_hash,
    };
    let reply = Reply::with_purpose(copy::otp(code.as_str()), SmsPurpose::Otp);
    let key = format!("otp:{user_id}:{}", &hash[..16]);
    replies::send(tx, &ctx.keyring, &Origin::job(now), &to, &reply, key).await?;
    Ok(())
}

/// `POST /v1/registrations/verify`.
#[tracing::instrument(skip_all)]
pub(super) async fn verify(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form: VerifyForm = json(&body)?;
    let e164 = phone(form.phone.as_deref())?;
    let candidate = form.code.ok_or(invalid("code", "required"))?;
    let ctx = &state.ctx;
    let now = ctx.clock.now();
    let mut tx = state.pool.begin().await?;
    let ip = client_ip(&headers, peer);
    if otp::hit(&mut tx, "verify_ip", &ip, now, Duration::hours(1)).await?
        > VERIFICATIONS_PER_IP_HOUR
    {
        return Err(ApiError::TooMany(
            "too many attempts from this address; try later",
        ));
    }
    let phone_hash = ctx.phone_pepper.hash(&e164);
    let Some(account) = identity::account_by_phone_hash(&mut tx, &phone_hash).await? else {
        return Err(ApiError::NotFound);
    };
    let (user_id, first, region_id) = (account.id, account.first_name, account.region_id);
    if account.state != "unverified" {
        return Err(ApiError::Conflict);
    }
    let open = otp::open_code(&mut tx, user_id)
        .await?
        .ok_or(invalid("code", "no open code; ask for a new one"))?;
    if open.attempts >= MAX_ATTEMPTS {
        return Err(invalid("code", "too many wrong tries; ask for a new code"));
    }
    if open.expires_at <= now {
        return Err(invalid("code", "this code has expired; ask for a new one"));
    }
    if !ctx
        .otp_key
        .verify(&candidate, &user_id.to_string(), &open.otp_hash)
    {
        otp::add_attempt(&mut tx, open.id).await?;
        tx.commit().await?; // the wrong try counts even though the request fails
        return Err(invalid("code", "wrong code"));
    }
    otp::mark_verified(&mut tx, open.id, now).await?;
    identity::set_user_state(&mut tx, user_id, "verified").await?;
    let status = place(
        &mut tx,
        ctx,
        user_id,
        &first,
        &e164,
        &phone_hash,
        region_id,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "user_id": user_id, "status": status })),
    ))
}

/// Places the newly verified user as the SMS path does and texts them its opening.
#[allow(clippy::too_many_arguments)]
async fn place(
    tx: &mut PgConnection,
    ctx: &Context,
    user_id: Uuid,
    first: &str,
    e164: &str,
    phone_hash: &str,
    region_id: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<&'static str, ApiError> {
    let region = match region_id {
        Some(id) => identity::region(tx, id).await?,
        None => None,
    };
    let open = region.as_ref().is_some_and(|r| r.state == "open");
    let cause = Envelope {
        correlation_id: Uuid::now_v7().to_string(),
        occurred_at: Some(proto::timestamp::to_timestamp(now)),
        ..Envelope::default()
    };
    let verified = Verified {
        cause: &cause,
        phone_hash,
        user_id,
        first_name: first,
        region,
        channel: Channel::Web,
    };
    let texts = registration::activate(tx, ctx, &verified).await?;
    let to = Recipient {
        user_id: Some(user_id),
        phone_e164: e164,
        phone_hash,
    };
    let origin = Origin::of(&cause);
    for (i, text) in texts.iter().enumerate() {
        let key = format!("verified:{user_id}:{i}");
        replies::send(tx, &ctx.keyring, &origin, &to, text, key).await?;
    }
    Ok(if open { "interviewing" } else { "waitlisted" })
}
