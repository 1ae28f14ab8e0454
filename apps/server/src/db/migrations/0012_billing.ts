import { sql, type Kysely } from 'kysely';

/**
 * Issue 6: payments through Stripe (reliability.md PAY-1…PAY-8). Only Stripe ids, amounts, plan and
 * status are kept: card data never reaches Atelier.
 *
 * - `billing_customers`: the Stripe customer made for a user before their first checkout (so every
 *   later event, in any order, maps to the user), and the flag a dispute sets.
 * - `stripe_events`: each event id once (PAY-2), stored before acknowledging and processed from the queue;
 *   kept ≥ 30 days to cover Stripe's retries and the replay window.
 * - `subscriptions`: Stripe's current view of each subscription, re-read from Stripe on every event.
 * - `credit_purchases`: what each paid checkout or invoice granted, so refunds and disputes can take
 *   back the right share (PAY-6, PAY-7).
 * - `billing_disputes`: credits set aside per dispute until it closes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table billing_customers (
      user_id text primary key,
      stripe_customer_id text not null unique,
      flagged_at timestamptz,
      flag_reason text,
      created_at timestamptz not null default now()
    )`,
    sql`create table stripe_events (
      id text primary key,
      type text not null,
      object_id text,
      stripe_created timestamptz not null,
      received_at timestamptz not null default now(),
      processed_at timestamptz,
      attempts integer not null default 0,
      last_error text,
      source text not null default 'webhook' check (source in ('webhook', 'reconciliation'))
    )`,
    sql`create index stripe_events_received_idx on stripe_events (received_at)`,
    sql`create index stripe_events_unprocessed_idx on stripe_events (received_at) where processed_at is null`,
    sql`create table subscriptions (
      id text primary key,
      user_id text not null,
      plan_id text not null,
      status text not null,
      current_period_end timestamptz,
      cancel_at_period_end boolean not null default false,
      updated_at timestamptz not null default now()
    )`,
    sql`create index subscriptions_user_idx on subscriptions (user_id)`,
    sql`create table credit_purchases (
      id text primary key,
      user_id text not null,
      kind text not null check (kind in ('pack', 'plan')),
      item_id text not null,
      item_name text not null,
      credits bigint not null check (credits >= 0),
      amount bigint not null check (amount >= 0),
      currency text not null,
      status text not null,
      payment_intent text,
      charge text,
      receipt_url text,
      stripe_object text not null,
      created_at timestamptz not null default now()
    )`,
    sql`create index credit_purchases_user_idx on credit_purchases (user_id, created_at)`,
    sql`create index credit_purchases_payment_intent_idx on credit_purchases (payment_intent) where payment_intent is not null`,
    sql`create index credit_purchases_charge_idx on credit_purchases (charge) where charge is not null`,
    sql`create table billing_disputes (
      id text primary key,
      user_id text not null,
      purchase_id text not null,
      credits bigint not null,
      frozen bigint not null default 0,
      status text not null,
      created_at timestamptz not null default now(),
      closed_at timestamptz
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['billing_disputes', 'credit_purchases', 'subscriptions', 'stripe_events', 'billing_customers']) await sql`drop table if exists ${sql.table(table)}`.execute(db);
}
