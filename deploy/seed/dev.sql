-- DEV-ONLY seed data. Never apply to staging or production (product data such as the activity catalog
-- lives in migrations/ instead). Apply after the migrations:
--   psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f deploy/seed/dev.sql
-- Idempotent: re-applying updates the rows in place.

-- One open region, where registration leads straight to the interview.
insert into public.regions (slug, display_name, state, geometry, rules) values
  ('sf-mission', 'San Francisco — Mission', 'open',
   '{"type": "zip_set", "zips": ["94110", "94103", "94107", "94114"]}',
   '{"timezone": "America/Los_Angeles"}')
on conflict (slug) do update set
  display_name = excluded.display_name,
  state = excluded.state,
  geometry = excluded.geometry,
  rules = excluded.rules;

-- One waitlisted region, to exercise the waitlist path.
insert into public.regions (slug, display_name, state, geometry, rules) values
  ('oakland', 'Oakland', 'waitlisted',
   '{"type": "zip_set", "zips": ["94606", "94610", "94612"]}',
   '{"timezone": "America/Los_Angeles"}')
on conflict (slug) do update set
  display_name = excluded.display_name,
  state = excluded.state,
  geometry = excluded.geometry,
  rules = excluded.rules;

-- A dev admin, so admin actions in the local stack have someone to attribute them to.
insert into public.admin_users (email, role) values
  ('dev@josh.local', 'engineering')
on conflict (email) do update set role = excluded.role;
