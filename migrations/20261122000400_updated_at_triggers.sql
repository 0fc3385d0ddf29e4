-- JOSH 2.0 schema, checklist step 3: keep updated_at current.
-- One BEFORE UPDATE trigger named set_updated_at on every table of the schema document that has an
-- updated_at column (tables created by later files attach their own). Tables without updated_at, by
-- design append-only or single-transition: message_events, profile_events, stripe_events, user_blocks,
-- user_strikes, admin_audit_log, domain_events, magic_links.

create or replace trigger set_updated_at before update on public.users
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.otp_sessions
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.regions
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.region_memberships
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.conversation_sessions
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.sms_messages
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.sms_outbound_jobs
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.profiles
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.linkups
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.linkup_invites
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.linkup_participants
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.linkup_reminders
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.linkup_outcomes
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.contact_exchange_choices
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.contact_exchanges
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.stripe_customers
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.subscriptions
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.entitlements
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.safety_holds
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.safety_incidents
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.safety_reports
  for each row execute function public.set_updated_at();

create or replace trigger set_updated_at before update on public.admin_users
  for each row execute function public.set_updated_at();
