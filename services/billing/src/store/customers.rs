//! `stripe_customers`: one Stripe customer per user.

use sqlx::PgConnection;
use uuid::Uuid;

/// The user a customer belongs to.
#[tracing::instrument(skip_all, fields(customer))]
pub async fn user_of(conn: &mut PgConnection, customer: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select user_id from stripe_customers where stripe_customer_id = $1",
        customer
    )
    .fetch_optional(&mut *conn)
    .await
}

/// The customer of a user.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn of_user(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select stripe_customer_id from stripe_customers where user_id = $1",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await
}

/// Links `customer` to `user_id` unless the user already has one; returns the user's customer.
#[tracing::instrument(skip_all, fields(%user_id, customer))]
pub async fn link(
    conn: &mut PgConnection,
    user_id: Uuid,
    customer: &str,
) -> Result<String, sqlx::Error> {
    sqlx::query!(
        "insert into stripe_customers (user_id, stripe_customer_id) values ($1, $2)
         on conflict do nothing",
        user_id,
        customer
    )
    .execute(&mut *conn)
    .await?;
    Ok(of_user(conn, user_id)
        .await?
        .unwrap_or_else(|| customer.to_owned()))
}

/// Forgets a deleted customer (the next checkout creates a new one).
#[tracing::instrument(skip_all, fields(customer))]
pub async fn forget(conn: &mut PgConnection, customer: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from stripe_customers where stripe_customer_id = $1",
        customer
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
