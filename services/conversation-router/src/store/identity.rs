//! Users, regions, memberships, sessions and profiles.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A user as the conversation needs them.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// First name, for greetings.
    pub first_name: String,
    /// `user_state` label.
    pub state: String,
}

impl User {
    /// The user a left join found, if it found one (all three columns, or none).
    pub(crate) fn from_columns(
        id: Option<Uuid>,
        first_name: Option<String>,
        state: Option<String>,
    ) -> Option<Self> {
        Some(Self {
            id: id?,
            first_name: first_name?,
            state: state?,
        })
    }
}

/// Who sent a text: the user with its phone hash (unless deleted), and whether the phone is
/// opted out.
#[derive(Debug, Clone)]
pub struct Texter {
    /// The user, if the phone belongs to one.
    pub user: Option<User>,
    /// Whether the phone is currently opted out.
    pub opted_out: bool,
}

/// The user with this phone hash (unless deleted) and the phone's opt-out, in one statement:
/// every text needs both first.
#[tracing::instrument(skip_all)]
pub async fn texter(tx: &mut PgConnection, phone_hash: &str) -> Result<Texter, sqlx::Error> {
    let row = sqlx::query!(
        r#"select u.id as "id?", u.first_name as "first_name?", u.state::text as "state?",
                  exists (select 1 from phone_opt_outs o
                           where o.phone_hash = $1 and o.opted_out_at is not null) as "opted_out!"
             from (values (1)) as one (x)
             left join users u on u.phone_hash = $1 and u.deleted_at is null"#,
        phone_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(Texter {
        user: User::from_columns(row.id, row.first_name, row.state),
        opted_out: row.opted_out,
    })
}

/// A region as registration needs it.
#[derive(Debug, Clone)]
pub struct Region {
    /// Id.
    pub id: Uuid,
    /// Name shown to people.
    pub display_name: String,
    /// `region_state` label.
    pub state: String,
}

/// The region whose ZIP set holds `zip` (one region per ZIP).
#[tracing::instrument(skip_all)]
pub async fn region_by_zip(
    tx: &mut PgConnection,
    zip: &str,
) -> Result<Option<Region>, sqlx::Error> {
    sqlx::query_as!(
        Region,
        r#"select id, display_name, state::text as "state!" from regions
           where geometry -> 'zips' ? $1 order by created_at limit 1"#,
        zip
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Everything registration collected.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// E.164 number.
    pub phone_e164: &'a str,
    /// Keyed hash of it.
    pub phone_hash: &'a str,
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Birthday (18+ checked).
    pub birthday: Date,
    /// ZIP code.
    pub zip_code: &'a str,
    /// The region, if the ZIP has one.
    pub region_id: Option<Uuid>,
    /// When every consent was given (the AGREE step).
    pub consented_at: OffsetDateTime,
}

/// Creates a verified user with all consents recorded at `consented_at`.
#[tracing::instrument(skip_all)]
pub async fn create_verified_user(
    tx: &mut PgConnection,
    user: &NewUser<'_>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state,
                            sms_consent, age_consent, terms_consent, privacy_consent,
                            sms_consent_at, age_consent_at, terms_consent_at, privacy_consent_at,
                            region_id, zip_code)
         values ($1, $2, $3, $4, $5, 'verified', true, true, true, true, $6, $6, $6, $6, $7, $8)
         returning id",
        user.phone_e164,
        user.phone_hash,
        user.first_name,
        user.last_name,
        user.birthday,
        user.consented_at,
        user.region_id,
        user.zip_code
    )
    .fetch_one(&mut *tx)
    .await
}

/// Creates an unverified user (the web path) with all consents recorded at `consented_at`;
/// `None` when the phone is already registered.
#[tracing::instrument(skip_all)]
pub async fn create_unverified_user(
    tx: &mut PgConnection,
    user: &NewUser<'_>,
    email: Option<&str>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state, email,
                            sms_consent, age_consent, terms_consent, privacy_consent,
                            sms_consent_at, age_consent_at, terms_consent_at, privacy_consent_at,
                            region_id, zip_code)
         values ($1, $2, $3, $4, $5, 'unverified', $9::text::citext, true, true, true, true, $6, $6, $6, $6, $7, $8)
         on conflict do nothing
         returning id",
        user.phone_e164,
        user.phone_hash,
        user.first_name,
        user.last_name,
        user.birthday,
        user.consented_at,
        user.region_id,
        user.zip_code,
        email
    )
    .fetch_optional(&mut *tx)
    .await
}

/// A user of any state (the web path looks up unverified ones too).
#[derive(Debug, Clone)]
pub struct Account {
    /// Id.
    pub id: Uuid,
    /// First name.
    pub first_name: String,
    /// `user_state` label.
    pub state: String,
    /// The ZIP's region, if any.
    pub region_id: Option<Uuid>,
}

/// The account with this phone hash, whatever its state, locked for this transaction.
#[tracing::instrument(skip_all)]
pub async fn account_by_phone_hash(
    tx: &mut PgConnection,
    phone_hash: &str,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as!(
        Account,
        r#"select id, first_name, state::text as "state!", region_id from users
           where phone_hash = $1 and deleted_at is null for update"#,
        phone_hash
    )
    .fetch_optional(&mut *tx)
    .await
}

/// A region by id.
#[tracing::instrument(skip_all)]
pub async fn region(tx: &mut PgConnection, id: Uuid) -> Result<Option<Region>, sqlx::Error> {
    sqlx::query_as!(
        Region,
        r#"select id, display_name, state::text as "state!" from regions where id = $1"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Moves a user to `state` (a `user_state` label).
#[tracing::instrument(skip_all, fields(state))]
pub async fn set_user_state(
    tx: &mut PgConnection,
    user_id: Uuid,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update users set state = $2::text::user_state where id = $1",
        user_id,
        state
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Adds the user's membership of `region_id` with `status` (`active` or `waitlisted`).
#[tracing::instrument(skip_all, fields(status))]
pub async fn add_membership(
    tx: &mut PgConnection,
    user_id: Uuid,
    region_id: Uuid,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into region_memberships (user_id, region_id, status) values ($1, $2, $3)
         on conflict (user_id, status) do nothing",
        user_id,
        region_id,
        status
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Creates the user's conversation pointer and empty profile.
#[tracing::instrument(skip_all, fields(mode, state_token))]
pub async fn start_conversation(
    tx: &mut PgConnection,
    user_id: Uuid,
    mode: &str,
    state_token: &str,
    now: time::OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into conversation_sessions (user_id, mode, state_token, last_inbound_at)
         values ($1, $2::text::conversation_mode, $3, $4)
         on conflict (user_id) do update
         set mode = excluded.mode, state_token = excluded.state_token,
             last_inbound_at = excluded.last_inbound_at",
        user_id,
        mode,
        state_token,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into profiles (user_id) values ($1) on conflict (user_id) do nothing",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Appends a state transition to `domain_events` (once per idempotency key).
#[tracing::instrument(skip_all, fields(entity_type, event_type))]
pub async fn record_transition(
    tx: &mut PgConnection,
    entity_type: &str,
    entity_id: Uuid,
    event_type: &str,
    from_to: (Option<&str>, Option<&str>),
    idempotency_key: &str,
    correlation_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into domain_events (entity_type, entity_id, event_type, from_state, to_state,
                                    idempotency_key, correlation_id)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
        entity_type,
        entity_id,
        event_type,
        from_to.0,
        from_to.1,
        idempotency_key,
        correlation_id
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// How to reach a user.
#[derive(Debug, Clone)]
pub struct Contact {
    /// Id.
    pub id: Uuid,
    /// First name.
    pub first_name: String,
    /// E.164 number.
    pub phone_e164: String,
    /// Keyed hash of the number.
    pub phone_hash: String,
}

/// The users among `ids` that are not deleted, in the order of `ids`.
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn contacts(tx: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Contact>, sqlx::Error> {
    sqlx::query_as!(
        Contact,
        "select u.id, u.first_name, u.phone_e164, u.phone_hash
         from unnest($1::uuid[]) with ordinality as wanted(id, n)
         join users u on u.id = wanted.id
         where u.deleted_at is null
         order by wanted.n",
        ids
    )
    .fetch_all(&mut *tx)
    .await
}
