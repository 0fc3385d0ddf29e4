//! What the pipeline needs to know about a text's sender before it can answer, in one round
//! trip: who sent it, whether the phone is opted out, the text counted against the phone's
//! rate window, and the phone's open SMS registration.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::store::identity::User;
use crate::store::registrations::Registration;

/// A text's sender as the pipeline past the carrier commands sees them.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The user the phone belongs to, if any.
    pub user: Option<User>,
    /// The phone's rate window after counting this text; `None` when the phone is opted out
    /// (its text is ignored, and not counted).
    pub window: Option<Window>,
    /// The phone's open, unexpired registration (only an unknown number has one to go on with).
    pub registration: Option<Registration>,
}

/// A phone's one-minute rate window after counting a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Texts in the window, this one included.
    pub message_count: i32,
    /// Whether the window's one "slow down" reply already went.
    pub warned: bool,
}

/// Reads the sender and, unless the phone is opted out, counts the text against its one-minute
/// window (product-rules §1 step 4). The caller has ruled out a carrier command: those are
/// neither counted nor limited.
#[tracing::instrument(skip_all)]
pub async fn arrive(
    tx: &mut PgConnection,
    phone_hash: &str,
    now: OffsetDateTime,
) -> Result<Arrival, sqlx::Error> {
    // The window update runs once whatever the outer select reads (a data-modifying CTE), and
    // not at all for an opted-out phone; one open registration per phone (a unique index).
    let row = sqlx::query!(
        r#"with texter as (
             select u.id, u.first_name, u.state::text as state,
                    exists (select 1 from phone_opt_outs o
                             where o.phone_hash = $1 and o.opted_out_at is not null) as opted_out
               from (values (1)) as one (x)
               left join users u on u.phone_hash = $1 and u.deleted_at is null
           ), counted as (
             insert into inbound_rate_windows (phone_hash, window_start, message_count)
             select $1, $2, 1 from texter where not texter.opted_out
             on conflict (phone_hash) do update set
               window_start = case when inbound_rate_windows.window_start <= $2 - interval '1 minute'
                                   then $2 else inbound_rate_windows.window_start end,
               message_count = case when inbound_rate_windows.window_start <= $2 - interval '1 minute'
                                    then 1 else inbound_rate_windows.message_count + 1 end,
               warned = case when inbound_rate_windows.window_start <= $2 - interval '1 minute'
                             then false else inbound_rate_windows.warned end
             returning message_count, warned
           )
           select t.id as "id?", t.first_name as "first_name?", t.state as "state?",
                  c.message_count as "message_count?", c.warned as "warned?",
                  r.id as "registration_id?", r.step as "step?",
                  r.first_name as "registration_first_name?", r.last_name as "last_name?",
                  r.birthday as "birthday?", r.zip_code as "zip_code?"
             from texter t
             left join counted c on true
             left join sms_registrations r
                    on r.phone_hash = $1 and r.completed_at is null and r.expires_at > $2"#,
        phone_hash,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    let window = match (row.message_count, row.warned) {
        (Some(message_count), Some(warned)) => Some(Window {
            message_count,
            warned,
        }),
        _ => None,
    };
    let registration = match (row.registration_id, row.step) {
        (Some(id), Some(step)) => Some(Registration {
            id,
            step,
            first_name: row.registration_first_name,
            last_name: row.last_name,
            birthday: row.birthday,
            zip_code: row.zip_code,
        }),
        _ => None,
    };
    Ok(Arrival {
        user: User::from_columns(row.id, row.first_name, row.state),
        window,
        registration,
    })
}
