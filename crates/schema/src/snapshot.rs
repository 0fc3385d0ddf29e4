//! Reads the live catalog into a [`Manifest`]. Only the `public` schema is described: that is
//! what the migrations own (the Supabase shim's `auth` schema may belong to Supabase).

use sqlx::PgPool;

use crate::{Manifest, SchemaError};

/// Roles whose grants are part of the expected schema. The owner's implicit privileges are not:
/// they depend on who ran the migrations.
const GRANTEE_ROLES: &[&str] = &[
    "anon",
    "authenticated",
    "service_role",
    "josh_inbound_sms",
    "josh_conversation_router",
    "josh_linkup_matcher",
    "josh_billing",
    "josh_outbound_sender",
];

/// Describes the live `public` schema: enums, tables with their RLS flags, columns, indexes,
/// constraints, policies, triggers and the service roles' grants.
///
/// # Errors
/// Fails when the catalog cannot be read.
#[tracing::instrument(skip_all)]
pub async fn snapshot(pool: &PgPool) -> Result<Manifest, SchemaError> {
    let mut m = Manifest::default();
    enums(pool, &mut m).await?;
    tables(pool, &mut m).await?;
    columns(pool, &mut m).await?;
    indexes(pool, &mut m).await?;
    constraints(pool, &mut m).await?;
    policies(pool, &mut m).await?;
    triggers(pool, &mut m).await?;
    grants(pool, &mut m).await?;
    Ok(m)
}

async fn enums(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select t.typname::text as "name!",
                  string_agg(e.enumlabel, ', ' order by e.enumsortorder) as "labels!"
           from pg_type t join pg_enum e on e.enumtypid = t.oid
           where t.typnamespace = 'public'::regnamespace
           group by t.typname"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        m.insert(format!("enum public.{}: {}", r.name, r.labels));
    }
    Ok(())
}

async fn tables(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select relname::text as "name!", relrowsecurity as "rls!",
                  array_to_string(reloptions, ',') as "options?"
           from pg_class
           where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
             and relname <> '_sqlx_migrations'"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let rls = if r.rls { "on" } else { "off" };
        let mut line = format!("table public.{} rls={rls}", r.name);
        // Storage and autovacuum settings (fillfactor, per-table thresholds) are tuning the
        // migrations chose on purpose: a drift is worth a failing snapshot.
        if let Some(options) = r.options {
            line.push_str(&format!(" options={options}"));
        }
        m.insert(line);
    }
    Ok(())
}

async fn columns(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select c.relname::text as "table!", a.attname::text as "column!",
                  format_type(a.atttypid, a.atttypmod) as "type!", a.attnotnull as "not_null!",
                  pg_get_expr(d.adbin, d.adrelid) as "default?", a.attidentity::text as "identity!",
                  coalesce(a.attstattarget, -1)::int as "statistics!"
           from pg_attribute a
           join pg_class c on c.oid = a.attrelid
           left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
           where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
             and c.relname <> '_sqlx_migrations' and a.attnum > 0 and not a.attisdropped"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let mut line = format!("column public.{}.{}: {}", r.table, r.column, r.r#type);
        if r.not_null {
            line.push_str(" not null");
        }
        if let Some(default) = r.default {
            line.push_str(&format!(" default {default}"));
        }
        if !r.identity.is_empty() {
            line.push_str(" identity");
        }
        // -1 is the server's default; anything else was set by a migration.
        if r.statistics >= 0 {
            line.push_str(&format!(" statistics={}", r.statistics));
        }
        m.insert(line);
    }
    Ok(())
}

async fn indexes(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select indexname::text as "name!", indexdef as "def!"
           from pg_indexes where schemaname = 'public' and tablename <> '_sqlx_migrations'"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        m.insert(format!("index public.{}: {}", r.name, r.def));
    }
    Ok(())
}

async fn constraints(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select c.conrelid::regclass::text as "table!", c.conname::text as "name!",
                  pg_get_constraintdef(c.oid) as "def!"
           from pg_constraint c
           where c.connamespace = 'public'::regnamespace and c.conrelid <> 0
             and c.conrelid <> coalesce(to_regclass('public._sqlx_migrations'), 0)"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        m.insert(format!(
            "constraint public.{}.{}: {}",
            r.table, r.name, r.def
        ));
    }
    Ok(())
}

async fn policies(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select tablename::text as "table!", policyname::text as "name!", cmd as "cmd!",
                  array_to_string(roles, ',') as "roles!",
                  coalesce(qual, '') as "using!", coalesce(with_check, '') as "check!"
           from pg_policies where schemaname = 'public'"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        m.insert(format!(
            "policy public.{}.{}: {} to {} using ({}) check ({})",
            r.table, r.name, r.cmd, r.roles, r.using, r.check
        ));
    }
    Ok(())
}

async fn triggers(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let rows = sqlx::query!(
        r#"select t.tgrelid::regclass::text as "table!", t.tgname::text as "name!",
                  p.proname::text as "function!"
           from pg_trigger t
           join pg_class c on c.oid = t.tgrelid
           join pg_proc p on p.oid = t.tgfoid
           where c.relnamespace = 'public'::regnamespace and not t.tgisinternal"#
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        m.insert(format!(
            "trigger public.{}.{}: {}",
            r.table, r.name, r.function
        ));
    }
    Ok(())
}

async fn grants(pool: &PgPool, m: &mut Manifest) -> Result<(), SchemaError> {
    let roles: Vec<String> = GRANTEE_ROLES.iter().map(|r| (*r).to_owned()).collect();
    let rows = sqlx::query!(
        r#"select c.relname::text as "table!", r.rolname::text as "grantee!",
                  string_agg(a.privilege_type, ',' order by a.privilege_type) as "privileges!"
           from pg_class c
           cross join lateral aclexplode(c.relacl) a
           join pg_roles r on r.oid = a.grantee
           where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'S')
             and c.relname <> '_sqlx_migrations' and r.rolname = any($1)
           group by c.relname, r.rolname"#,
        &roles
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        m.insert(format!(
            "grant {} on public.{}: {}",
            r.grantee, r.table, r.privileges
        ));
    }
    Ok(())
}
