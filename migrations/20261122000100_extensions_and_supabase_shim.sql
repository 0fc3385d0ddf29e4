-- JOSH 2.0 schema, step 0: extensions, the Supabase compatibility shim, shared trigger function.
--
-- Every migration in this directory is applied by sqlx's migrator (one transaction per file) and must also
-- apply cleanly with `psql -v ON_ERROR_STOP=1 -f <file>` in file-name order, twice in a row. So: plain SQL
-- and DO blocks only, no psql meta-commands, no CREATE INDEX CONCURRENTLY, and every object guarded.

create extension if not exists pgcrypto;
create extension if not exists citext;

-- ---------------------------------------------------------------------------------------------------------
-- Supabase shim. On Supabase the `auth` schema, `auth.uid()` and the roles anon / authenticated /
-- service_role already exist (owned by Supabase's own admin roles) and are left untouched. On a plain
-- Postgres they are created here so the RLS policies below mean the same thing everywhere.
-- ---------------------------------------------------------------------------------------------------------

-- Roles are cluster-global, and several databases on one server may be migrated at the same time: check
-- first, and treat a concurrent creator winning the race as success.
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin', r);
      exception when duplicate_object or unique_violation then
        null; -- created by a concurrent migration of another database
      end;
    end if;
  end loop;

  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    begin
      execute 'create role service_role nologin bypassrls';
    exception
      when duplicate_object or unique_violation then
        null; -- created by a concurrent migration of another database
      when insufficient_privilege then
        -- Only a superuser may grant BYPASSRLS. On a managed Postgres without one, create the role without
        -- it (nothing in JOSH connects as service_role; the services use their own josh_* roles).
        begin
          execute 'create role service_role nologin';
        exception when duplicate_object or unique_violation then
          null;
        end;
        raise warning 'service_role created without BYPASSRLS (migrating role is not a superuser)';
    end;
  end if;
end
$$;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
    execute 'create schema auth';
  end if;

  if not exists (
    select 1
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'uid' and p.pronargs = 0
  ) then
    -- The caller's user id, from the JWT claims PostgREST puts in `request.jwt.claims`; NULL when absent.
    execute $fn$
      create function auth.uid() returns uuid
      language sql stable
      as $body$
        select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
      $body$
    $fn$;
  end if;

  -- Policies evaluated for anon/authenticated call auth.uid(), which needs USAGE on the schema. Only grant
  -- when the schema is ours (i.e. we are on a plain Postgres, not Supabase, whose auth schema is managed).
  if exists (
    select 1 from pg_catalog.pg_namespace
    where nspname = 'auth' and pg_catalog.pg_has_role(nspowner, 'USAGE')
  ) then
    execute 'grant usage on schema auth to anon, authenticated, service_role';
    execute 'grant execute on function auth.uid() to anon, authenticated, service_role';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Keeps updated_at current (schema document, "Common Columns"). Attached to every table that has an
-- updated_at column by 20261122000400_updated_at_triggers.sql (and by later files for their own tables).
-- ---------------------------------------------------------------------------------------------------------
create or replace function public.set_updated_at()
returns trigger language plpgsql as $$
begin
  new.updated_at = now();
  return new;
end $$;
