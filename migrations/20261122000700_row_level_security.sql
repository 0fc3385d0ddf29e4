-- JOSH 2.0 schema, checklist step 4: row-level security for the Supabase-style roles.
--
-- RLS is enabled on EVERY table in public, including the catalog, outbox/inbox, admin and audit tables, so
-- a Supabase-style "grant select to anon" can never expose a row: a table with RLS on and no policy for a
-- role returns nothing to that role. Policies here are for `authenticated` (users of a future client-side
-- dashboard, identified by auth.uid() = public.users.id) and none at all for `anon`.
-- The services connect as their own josh_* roles; their grants and policies are in
-- 20261122000800_service_roles.sql. service_role (Supabase) has BYPASSRLS.
--
-- Policies are re-created (drop if exists + create) so a re-apply converges to this file's definitions.

-- ---------------------------------------------------------------------------------------------------------
-- Enable RLS everywhere (not FORCE: the owner, i.e. the migrating role, keeps full access).
-- ---------------------------------------------------------------------------------------------------------
alter table public.users enable row level security;
alter table public.otp_sessions enable row level security;
alter table public.regions enable row level security;
alter table public.region_memberships enable row level security;
alter table public.conversation_sessions enable row level security;
alter table public.sms_messages enable row level security;
alter table public.sms_outbound_jobs enable row level security;
alter table public.message_events enable row level security;
alter table public.profiles enable row level security;
alter table public.profile_events enable row level security;
alter table public.linkups enable row level security;
alter table public.linkup_invites enable row level security;
alter table public.linkup_participants enable row level security;
alter table public.linkup_reminders enable row level security;
alter table public.linkup_outcomes enable row level security;
alter table public.contact_exchange_choices enable row level security;
alter table public.contact_exchanges enable row level security;
alter table public.stripe_customers enable row level security;
alter table public.subscriptions enable row level security;
alter table public.entitlements enable row level security;
alter table public.stripe_events enable row level security;
alter table public.safety_holds enable row level security;
alter table public.safety_incidents enable row level security;
alter table public.safety_reports enable row level security;
alter table public.user_blocks enable row level security;
alter table public.user_strikes enable row level security;
alter table public.admin_users enable row level security;
alter table public.admin_audit_log enable row level security;
alter table public.domain_events enable row level security;
alter table public.magic_links enable row level security;
alter table public.event_outbox enable row level security;
alter table public.event_inbox enable row level security;
alter table public.activities enable row level security;

-- sqlx's bookkeeping table lives in public too when the migrations are applied by `joshctl migrate`
-- (absent when applied by psql). Lock it down the same way; its owner (the migrating role, which is who
-- reads and writes it) is not subject to RLS.
do $$
begin
  if to_regclass('public._sqlx_migrations') is not null then
    alter table public._sqlx_migrations enable row level security;
    revoke all on public._sqlx_migrations from anon, authenticated;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Membership helpers. SECURITY DEFINER (owned by the migrating role, which owns the tables and so is not
-- subject to their RLS) so that the linkups <-> linkup_participants <-> linkup_invites policies can look at
-- each other without recursing into each other's policies. Each answers only about the caller
-- (auth.uid()), so they reveal nothing a caller couldn't learn about themselves.
-- ---------------------------------------------------------------------------------------------------------
create or replace function public.is_linkup_participant(p_linkup_id uuid)
returns boolean
language sql stable security definer
set search_path = public
as $$
  select exists (
    select 1 from public.linkup_participants p
    where p.linkup_id = p_linkup_id and p.user_id = auth.uid()
  )
$$;

-- Member = initiator or participant.
create or replace function public.is_linkup_member(p_linkup_id uuid)
returns boolean
language sql stable security definer
set search_path = public
as $$
  select exists (
    select 1 from public.linkups l
    where l.id = p_linkup_id and l.initiator_user_id = auth.uid()
  ) or exists (
    select 1 from public.linkup_participants p
    where p.linkup_id = p_linkup_id and p.user_id = auth.uid()
  )
$$;

create or replace function public.is_linkup_invitee(p_linkup_id uuid)
returns boolean
language sql stable security definer
set search_path = public
as $$
  select exists (
    select 1 from public.linkup_invites i
    where i.linkup_id = p_linkup_id and i.invited_user_id = auth.uid()
  )
$$;

revoke all on function public.is_linkup_participant(uuid) from public;
revoke all on function public.is_linkup_member(uuid) from public;
revoke all on function public.is_linkup_invitee(uuid) from public;
grant execute on function public.is_linkup_participant(uuid) to authenticated;
grant execute on function public.is_linkup_member(uuid) to authenticated;
grant execute on function public.is_linkup_invitee(uuid) to authenticated;
-- Supabase's default privileges also grant EXECUTE on new functions to anon directly; take it back.
revoke all on function public.is_linkup_participant(uuid) from anon;
revoke all on function public.is_linkup_member(uuid) from anon;
revoke all on function public.is_linkup_invitee(uuid) from anon;

-- ---------------------------------------------------------------------------------------------------------
-- Policies for `authenticated`.
-- ---------------------------------------------------------------------------------------------------------

-- users: own row.
drop policy if exists users_select_own on public.users;
create policy users_select_own on public.users
  for select to authenticated using (id = auth.uid());
drop policy if exists users_update_own on public.users;
create policy users_update_own on public.users
  for update to authenticated using (id = auth.uid()) with check (id = auth.uid());

-- profiles: the document's two policies (scoped to authenticated), plus insert own.
drop policy if exists profiles_select_own on public.profiles;
create policy profiles_select_own on public.profiles
  for select to authenticated using (user_id = auth.uid());
drop policy if exists profiles_update_own on public.profiles;
create policy profiles_update_own on public.profiles
  for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
drop policy if exists profiles_insert_own on public.profiles;
create policy profiles_insert_own on public.profiles
  for insert to authenticated with check (user_id = auth.uid());

-- Own rows, read-only.
drop policy if exists region_memberships_select_own on public.region_memberships;
create policy region_memberships_select_own on public.region_memberships
  for select to authenticated using (user_id = auth.uid());

drop policy if exists conversation_sessions_select_own on public.conversation_sessions;
create policy conversation_sessions_select_own on public.conversation_sessions
  for select to authenticated using (user_id = auth.uid());

drop policy if exists profile_events_select_own on public.profile_events;
create policy profile_events_select_own on public.profile_events
  for select to authenticated using (user_id = auth.uid());

drop policy if exists linkup_invites_select_own on public.linkup_invites;
create policy linkup_invites_select_own on public.linkup_invites
  for select to authenticated using (invited_user_id = auth.uid());

drop policy if exists stripe_customers_select_own on public.stripe_customers;
create policy stripe_customers_select_own on public.stripe_customers
  for select to authenticated using (user_id = auth.uid());

drop policy if exists subscriptions_select_own on public.subscriptions;
create policy subscriptions_select_own on public.subscriptions
  for select to authenticated using (user_id = auth.uid());

drop policy if exists entitlements_select_own on public.entitlements;
create policy entitlements_select_own on public.entitlements
  for select to authenticated using (user_id = auth.uid());

drop policy if exists safety_holds_select_own on public.safety_holds;
create policy safety_holds_select_own on public.safety_holds
  for select to authenticated using (user_id = auth.uid());

drop policy if exists user_strikes_select_own on public.user_strikes;
create policy user_strikes_select_own on public.user_strikes
  for select to authenticated using (user_id = auth.uid());

-- linkups: the document's linkups_select_member semantics (initiator OR participant OR invitee), with the
-- cross-table checks in the helpers above.
drop policy if exists linkups_select_member on public.linkups;
create policy linkups_select_member on public.linkups
  for select to authenticated
  using (
    initiator_user_id = auth.uid()
    or public.is_linkup_participant(id)
    or public.is_linkup_invitee(id)
  );

-- linkup_participants: a member (initiator or participant) reads every participant row of that LinkUp.
drop policy if exists linkup_participants_select_member on public.linkup_participants;
create policy linkup_participants_select_member on public.linkup_participants
  for select to authenticated using (public.is_linkup_member(linkup_id));

-- linkup_outcomes: own answers; writing requires being a participant of that LinkUp.
drop policy if exists linkup_outcomes_select_own on public.linkup_outcomes;
create policy linkup_outcomes_select_own on public.linkup_outcomes
  for select to authenticated using (user_id = auth.uid());
drop policy if exists linkup_outcomes_insert_own on public.linkup_outcomes;
create policy linkup_outcomes_insert_own on public.linkup_outcomes
  for insert to authenticated
  with check (user_id = auth.uid() and public.is_linkup_participant(linkup_id));
drop policy if exists linkup_outcomes_update_own on public.linkup_outcomes;
create policy linkup_outcomes_update_own on public.linkup_outcomes
  for update to authenticated
  using (user_id = auth.uid())
  with check (user_id = auth.uid() and public.is_linkup_participant(linkup_id));

-- contact_exchange_choices: own choices; writing requires the chooser to be a participant of the LinkUp.
drop policy if exists contact_exchange_choices_select_own on public.contact_exchange_choices;
create policy contact_exchange_choices_select_own on public.contact_exchange_choices
  for select to authenticated using (chooser_user_id = auth.uid());
drop policy if exists contact_exchange_choices_insert_own on public.contact_exchange_choices;
create policy contact_exchange_choices_insert_own on public.contact_exchange_choices
  for insert to authenticated
  with check (chooser_user_id = auth.uid() and public.is_linkup_participant(linkup_id));
drop policy if exists contact_exchange_choices_update_own on public.contact_exchange_choices;
create policy contact_exchange_choices_update_own on public.contact_exchange_choices
  for update to authenticated
  using (chooser_user_id = auth.uid())
  with check (chooser_user_id = auth.uid() and public.is_linkup_participant(linkup_id));

-- contact_exchanges: either side of the pair.
drop policy if exists contact_exchanges_select_own on public.contact_exchanges;
create policy contact_exchanges_select_own on public.contact_exchanges
  for select to authenticated using (user_a_id = auth.uid() or user_b_id = auth.uid());

-- user_blocks: the blocker reads, adds and removes their own blocks.
drop policy if exists user_blocks_select_own on public.user_blocks;
create policy user_blocks_select_own on public.user_blocks
  for select to authenticated using (blocker_user_id = auth.uid());
drop policy if exists user_blocks_insert_own on public.user_blocks;
create policy user_blocks_insert_own on public.user_blocks
  for insert to authenticated with check (blocker_user_id = auth.uid());
drop policy if exists user_blocks_delete_own on public.user_blocks;
create policy user_blocks_delete_own on public.user_blocks
  for delete to authenticated using (blocker_user_id = auth.uid());

-- safety_reports: the reporter reads and files their own reports.
drop policy if exists safety_reports_select_own on public.safety_reports;
create policy safety_reports_select_own on public.safety_reports
  for select to authenticated using (reporter_user_id = auth.uid());
drop policy if exists safety_reports_insert_own on public.safety_reports;
create policy safety_reports_insert_own on public.safety_reports
  for insert to authenticated with check (reporter_user_id = auth.uid());

-- Public product information, for signed-in users only.
drop policy if exists activities_select_authenticated on public.activities;
create policy activities_select_authenticated on public.activities
  for select to authenticated using (true);
drop policy if exists regions_select_authenticated on public.regions;
create policy regions_select_authenticated on public.regions
  for select to authenticated using (true);

-- No policy for authenticated (so never visible): otp_sessions, sms_messages, sms_outbound_jobs,
-- message_events, linkup_reminders, stripe_events, safety_incidents, admin_users, admin_audit_log,
-- domain_events, magic_links, event_outbox, event_inbox. No policy at all for anon.

-- ---------------------------------------------------------------------------------------------------------
-- Table privileges for the Supabase-style roles. First take away whatever defaults granted (Supabase's
-- default privileges give anon/authenticated ALL on new tables), then grant exactly this:
-- SELECT on the user-visible tables to anon and authenticated, as Supabase does, so RLS is what protects;
-- the few writes a signed-in user may make to authenticated only.
-- ---------------------------------------------------------------------------------------------------------
revoke all on all tables in schema public from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;

grant usage on schema public to anon, authenticated, service_role;

grant select on
  public.users,
  public.profiles,
  public.region_memberships,
  public.conversation_sessions,
  public.profile_events,
  public.linkups,
  public.linkup_invites,
  public.linkup_participants,
  public.linkup_outcomes,
  public.contact_exchange_choices,
  public.contact_exchanges,
  public.stripe_customers,
  public.subscriptions,
  public.entitlements,
  public.safety_holds,
  public.user_strikes,
  public.user_blocks,
  public.safety_reports,
  public.activities,
  public.regions
to anon, authenticated;

-- Column-level on users: a user may edit their name and email, never their phone, state, consents,
-- suspension or deletion markers (those go through the router).
grant update (first_name, last_name, email) on public.users to authenticated;
-- Column-level on profiles: a user may edit what they state about themselves; state, fingerprint,
-- activity_patterns and the interview bookkeeping are derived by the router.
grant update (boundaries, preferences, active_intent) on public.profiles to authenticated;
grant insert, update on public.linkup_outcomes to authenticated;
grant insert, update on public.contact_exchange_choices to authenticated;
grant insert, delete on public.user_blocks to authenticated;
grant insert on public.safety_reports to authenticated;

-- Supabase's service_role: everything (it bypasses RLS on Supabase).
grant all on all tables in schema public to service_role;
grant all on all sequences in schema public to service_role;
