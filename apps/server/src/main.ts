import { Command } from 'commander';
import { API_KEY_SCOPES, STAFF_ROLES, type ApiKeyScope } from '@atelier/contracts';
import { loadConfig, loadDotEnv, type Config } from './config.ts';
import { createContainer, type Container } from './container.ts';
import { buildApp } from './app.ts';
import { createLogger } from './lib/logger.ts';
import { createOperatorCommands } from './operator.ts';

/** The `atelier` command: start | api | worker | migrate | user create | api-key create. */
const program = new Command('atelier').description('Atelier — a self-hostable AI image studio').showHelpAfterError();

async function boot(roles: { http: boolean; work: boolean }): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.database.kind === 'pglite' && roles.http !== roles.work) {
    throw new Error('The embedded database serves one process only: run `atelier start` (API and workers together), or set DATABASE_URL to a PostgreSQL server to run `atelier api` and `atelier worker` separately.');
  }
  const container = await createContainer(config, { logger });
  const app = roles.http ? await buildApp(container) : null;
  await container.start({ work: roles.work });
  if (app) {
    await app.listen({ port: config.port, host: config.host });
    logger.info(`Atelier is running at ${config.publicUrl} (${config.database.kind === 'pglite' ? 'embedded database in ' + config.dataDir : 'PostgreSQL'})`);
  } else {
    logger.info('Atelier worker started');
  }
  installShutdown(container, app, logger);
}

function installShutdown(container: Container, app: Awaited<ReturnType<typeof buildApp>> | null, logger: Container['logger']) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000).unref();
    try {
      await app?.close(); // stop accepting requests, finish the ones in flight
      await container.stop(); // drain workers, close the database
      clearTimeout(force);
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Runs an operator command against the database without starting the server. */
async function withContainer<T>(fn: (c: Container, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const container = await createContainer(config, { logger: createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn') });
  try {
    await container.jobs.start({ work: false, concurrency: 1 });
    return await fn(container, config);
  } finally {
    await container.stop();
  }
}

program.command('start').description('Run everything in one process: HTTP API, studio and workers').action(() => boot({ http: true, work: true }));
program.command('api').description('Run the HTTP API and studio only (requires DATABASE_URL)').action(() => boot({ http: true, work: false }));
program.command('worker').description('Run job workers only (requires DATABASE_URL)').action(() => boot({ http: false, work: true }));
program
  .command('migrate')
  .description('Apply database migrations (also done at start)')
  .action(() => withContainer(async () => console.log('Database is up to date.')));

const user = program.command('user').description('Manage users');
user
  .command('create')
  .description('Create a user with an email and password')
  .requiredOption('--email <email>')
  .requiredOption('--password <password>')
  .option('--name <name>')
  .action((o: { email: string; password: string; name?: string }) =>
    withContainer(async (c) => {
      const created = await createOperatorCommands(c).createUser(o);
      console.log(`Created user ${created.email} (${created.id})`);
    }),
  );

const apiKey = program.command('api-key').description('Manage API keys');
apiKey
  .command('create')
  .description('Create an API key for a user; prints the key alone on the last line')
  .requiredOption('--email <email>')
  .option('--name <name>', 'a label for the key', 'CLI')
  .option('--scopes <scopes>', `comma-separated scopes: ${API_KEY_SCOPES.join(', ')}`, 'read,generate')
  .option('--expires-in-days <days>', 'the key stops working after this many days (default: never)')
  .action((o: { email: string; name: string; scopes: string; expiresInDays?: string }) =>
    withContainer(async (c) => {
      const scopes = o.scopes.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
      if (scopes.length === 0 || unknown.length) throw new Error(`--scopes takes one or more of ${API_KEY_SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
      const days = o.expiresInDays === undefined ? undefined : Number(o.expiresInDays);
      if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3650)) throw new Error('--expires-in-days takes a whole number of days from 1 to 3650');
      const key = await createOperatorCommands(c).createApiKey({ email: o.email, name: o.name, scopes: scopes as ApiKeyScope[], expiresInDays: days });
      console.log(`API key "${o.name}" for ${o.email} — store it now, it is not shown again:`);
      console.log(key);
    }),
  );

loadDotEnv();
const staff = program.command('staff').description('Manage staff roles (owner, admin, support, moderator)');
staff
  .command('grant')
  .description('Give a user a staff role; the first owner is bootstrapped this way. Staff must turn on two-factor authentication before using the console.')
  .requiredOption('--email <email>')
  .option('--role <role>', STAFF_ROLES.join(' | '))
  .option('--permission <permission>', 'deprecated: "all" grants owner, anything else admin')
  .action((o: { email: string; role?: string; permission?: string }) =>
    withContainer(async (c) => {
      const role = o.role ?? (o.permission === undefined ? undefined : o.permission === 'all' ? 'owner' : 'admin');
      if (!role) throw new Error(`--role is required: ${STAFF_ROLES.join(', ')}`);
      if (o.permission !== undefined && o.role === undefined) console.error(`atelier: --permission is deprecated; granting the ${role} role instead (use --role)`);
      const { created } = await c.staff.grant({ email: o.email, role, by: null });
      console.log(created ? `Granted ${role} to ${o.email}` : `${o.email} already holds ${role}`);
    }),
  );
staff
  .command('revoke')
  .description('Take a staff role away from a user (the last owner cannot be removed)')
  .requiredOption('--email <email>')
  .requiredOption('--role <role>', STAFF_ROLES.join(' | '))
  .action((o: { email: string; role: string }) =>
    withContainer(async (c) => {
      await c.staff.revoke({ email: o.email, role: o.role, by: null });
      console.log(`Revoked ${o.role} from ${o.email}`);
    }),
  );
staff
  .command('list')
  .description('List staff members and their roles')
  .action(() =>
    withContainer(async (c) => {
      for (const m of await c.staff.list()) console.log(`${m.email}\t${m.roles.map((r) => r.role).join(',')}`);
    }),
  );

const credits = program.command('credits').description('Grant or take back credits (audited, as the operator)');
const parseAmount = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000_000) throw new Error(`--amount must be a whole number from 1 to 10000000 (got "${value}")`);
  return Number(value);
};
for (const [name, sign, verb] of [
  ['grant', 1, 'Granted'],
  ['clawback', -1, 'Took back'],
] as const) {
  credits
    .command(name)
    .description(name === 'grant' ? 'Give a user credits, with a reason (audited)' : 'Take credits back from a user’s available balance, with a reason (audited)')
    .requiredOption('--email <email>')
    .requiredOption('--amount <n>', 'whole credits')
    .requiredOption('--reason <text>', 'why (kept in the ledger and the audit log)')
    .option('--expires-in-days <n>', 'grant only: unspent credits lapse after this many days')
    .option('--key <key>', 'idempotency key: the same key never grants twice (default: a new one)')
    .action((o: { email: string; amount: string; reason: string; expiresInDays?: string; key?: string }) => {
      // Bad arguments are refused before the database is opened.
      const amount = parseAmount(o.amount);
      if (o.reason.trim().length < 3) throw new Error('--reason must say why (at least 3 characters)');
      const expiresInDays = o.expiresInDays === undefined ? null : parseAmount(o.expiresInDays);
      return withContainer(async (c) => {
        const { balance } = await c.creditAdjustments.adjustByEmail({ email: o.email, amount: sign * amount, reason: o.reason.trim(), key: `cli:${o.key ?? crypto.randomUUID()}`, expiresInDays });
        console.log(`${verb} ${amount} credits ${sign > 0 ? 'to' : 'from'} ${o.email}; available ${balance.available}, held ${balance.held}`);
      });
    });
}

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`atelier: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
