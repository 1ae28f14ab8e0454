import { sql, type Kysely } from 'kysely';

/**
 * Issue 5, least privilege: staff roles replace the per-permission grants, an append-only audit log,
 * and scoped, expiring API keys.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table staff_roles (
      user_id text not null references users(id) on delete cascade,
      role text not null check (role in ('owner', 'admin', 'support', 'moderator')),
      granted_by text references users(id) on delete set null,
      granted_at timestamptz not null default now(),
      primary key (user_id, role)
    )`,
    // The old grants: 'all' was everything (owner); the narrower ones were console work (admin).
    sql`insert into staff_roles (user_id, role, granted_at)
      select user_id, case when bool_or(permission = 'all') then 'owner' else 'admin' end, min(granted_at)
      from staff_grants group by user_id`,
    sql`drop table staff_grants`,

    // No foreign keys: erasing a user must not need to edit the log (the ids stay, pseudonymous).
    sql`create table audit_events (
      id uuid primary key,
      at timestamptz not null default now(),
      actor_id text,
      actor_ip text,
      action text not null,
      target_type text,
      target_id text,
      reason text,
      details jsonb not null default '{}'::jsonb
    )`,
    sql`create index audit_events_actor_idx on audit_events (actor_id, id)`,
    sql`create index audit_events_action_idx on audit_events (action, id)`,
    sql`create index audit_events_target_idx on audit_events (target_id, id)`,
    // Append-only for everyone who connects as the application's role, whatever code or SQL they run.
    sql`create function audit_events_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_events is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end
    $$`,
    sql`create trigger audit_events_no_update_delete before update or delete on audit_events for each row execute function audit_events_refuse_change()`,
    sql`create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function audit_events_refuse_change()`,

    // Keys made before scopes existed keep working as they did: every scope.
    sql`alter table api_keys add column scopes text[] not null default '{read,generate,manage}'`,
    sql`alter table api_keys alter column scopes drop default`,
    sql`alter table api_keys add column expires_at timestamptz`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`alter table api_keys drop column expires_at, drop column scopes`,
    sql`drop table if exists audit_events`,
    sql`drop function if exists audit_events_refuse_change()`,
    sql`create table staff_grants (
      user_id text not null references users(id) on delete cascade,
      permission text not null,
      granted_at timestamptz not null default now(),
      primary key (user_id, permission)
    )`,
    sql`insert into staff_grants (user_id, permission, granted_at) select user_id, case when role = 'owner' then 'all' else 'engines.read' end, granted_at from staff_roles`,
    sql`drop table if exists staff_roles`,
  ])
    await statement.execute(db);
}
