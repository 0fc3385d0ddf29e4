-- The schema version the services' readiness checks (/readyz) compare against the version they were built
-- for. It returns this file's own version number.
--
-- EVERY FUTURE MIGRATION MUST REDEFINE THIS FUNCTION (create or replace) TO RETURN ITS OWN VERSION NUMBER,
-- i.e. the numeric prefix of its file name, so that the function always names the newest applied migration.

create or replace function public.josh_schema_version()
returns bigint
language sql immutable
as $$ select 20261122000900::bigint $$;

grant execute on function public.josh_schema_version() to public;
