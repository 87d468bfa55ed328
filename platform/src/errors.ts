// The CLI convention in one place: what kind of failure an error is, and the exit code and the
// one line a person sees for it. Commands throw; `cli/main.ts` is the only place that turns an
// error into an exit code, so the same kind of mistake gets the same code in every command.
import { ConfigError, nearestName, tenantById, type CallboardConfig } from './config.ts';
import { kafkaErrorIs } from './kafka.ts';
import { summarizeError } from './log-errors.ts';

/** Exit codes (sysexits.h where one fits). */
export const EXIT = {
  ok: 0,
  /** A check ran and found problems (`validate`, `reconcile`). */
  checkFailed: 1,
  /** Unknown command or option, missing or malformed argument. */
  usage: 2,
  /** EX_DATAERR: Kafka refuses the data itself (a record too large even alone, a corrupt or invalid record): retrying cannot help. */
  dataRefused: 65,
  /** EX_UNAVAILABLE: Kafka, ClickHouse or another service cannot be reached or is held by another process. */
  unavailable: 69,
  /** EX_SOFTWARE: a bug; the stack trace is printed. */
  internal: 70,
  /** EX_NOPERM: Kafka refuses this client (not authorized for the topic, group or cluster, or its SASL login). */
  noPermission: 77,
  /** EX_CONFIG: a setting is invalid (environment or CALLBOARD_CONFIG file). */
  config: 78,
} as const;

/** The command line is wrong; the dispatcher prints the message and the command's usage. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something the command needs is not there (broker, ClickHouse server, the embedded engine's lock). */
export class ServiceUnavailable extends Error {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceUnavailable';
  }
}

/** `--tenant X` that is not one of `known`: a usage error that names the tenants there are. */
export function unknownTenant(tenant: string, known: readonly string[], where: string): UsageError {
  const near = nearestName(tenant, known);
  const hint = near ? `, did you mean ${near}?` : ` (${where}: ${known.join(', ') || 'none'})`;
  return new UsageError(`--tenant ${tenant}: unknown tenant${hint}`);
}

/** With tenants configured, a `--tenant` that is none of them is a mistake, not an empty result. */
export function checkTenant(cfg: Pick<CallboardConfig, 'tenants'>, tenant: string | undefined): void {
  if (tenant && cfg.tenants.length && !tenantById(cfg, tenant))
    throw unknownTenant(
      tenant,
      cfg.tenants.map((t) => t.id),
      'configured tenants',
    );
}

/**
 * A listen that failed because the port is taken becomes an error naming the setting (or flag)
 * that chose the port; `ports` maps setting names to the ports they asked for.
 */
export function portInUse(e: unknown, ports: Record<string, number>): unknown {
  const err = e as NodeJS.ErrnoException & { port?: number; address?: string };
  if (err?.code !== 'EADDRINUSE') return e;
  const setting = Object.entries(ports).find(([, p]) => p === err.port)?.[0];
  if (!setting) return e;
  const taken = `${err.address ?? ''}:${err.port} is in use by another process`;
  // A flag is fixed on the command line (exit 2), a variable in the environment (exit 78).
  if (setting.startsWith('--')) return new UsageError(`${setting} ${err.port}: ${taken}`);
  return new ConfigError(setting, err.port, `a free port (${taken})`);
}

/** Broker answers that say this client may not do it: an operator grants the ACL, nothing else helps. */
const KAFKA_NOT_PERMITTED = ['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED'];
/** Broker answers that refuse the records themselves: sending them again is refused again. */
const KAFKA_DATA_REFUSED = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE'];

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN']);

export interface Failure {
  exit: number;
  message: string;
  /** Print the command's usage after the message. */
  usage: boolean;
  /** A bug rather than a user's or operator's mistake: show the stack even without --debug. */
  internal: boolean;
}

/** A @platformatic/kafka network failure, or attempts that all failed with one. */
function kafkaUnreachable(e: unknown): boolean {
  const x = e as { code?: string; errors?: unknown[] } | null;
  if (!x || typeof x !== 'object') return false;
  if (x.code === 'PLT_KFK_NETWORK') return true;
  return x.code === 'PLT_KFK_MULTIPLE' && Array.isArray(x.errors) && x.errors.length > 0 && x.errors.every(kafkaUnreachable);
}

/** What kind of failure `e` is; the one mapping from errors to exit codes. */
export function classify(e: unknown): Failure {
  const err = (e ?? {}) as Error & { code?: string; port?: number; address?: string; cause?: unknown };
  const message = err.message ?? String(e);
  const user = (exit: number, m = message, usage = false): Failure => ({ exit, message: m, usage, internal: false });
  if (e instanceof UsageError) return user(EXIT.usage, message, true);
  if (e instanceof ConfigError) return user(EXIT.config);
  // Before "unavailable": a write given up on wraps the broker's answer, and "not authorized" or
  // "too large" tells the operator what to change where "unavailable" would send them to the broker.
  if (kafkaErrorIs(e, ...KAFKA_NOT_PERMITTED)) return user(EXIT.noPermission);
  if (kafkaErrorIs(e, ...KAFKA_DATA_REFUSED)) return user(EXIT.dataRefused);
  if (e instanceof ServiceUnavailable) return user(EXIT.unavailable);
  // node:util parseArgs, for commands that call it directly.
  if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_')) return user(EXIT.usage, message, true);
  if (err.code === 'EADDRINUSE') return user(EXIT.config, `address in use: ${err.address ?? ''}:${err.port ?? ''} (choose another port)`);
  if (typeof err.code === 'string' && UNREACHABLE.has(err.code)) return user(EXIT.unavailable, `service unavailable: ${message}`);
  // @platformatic/kafka gives up on brokers it cannot reach with network errors, wrapped once
  // per attempt; the innermost causes name the addresses (each once).
  if (kafkaUnreachable(e)) return user(EXIT.unavailable, `Kafka unavailable: ${message.replace(/\.$/, '')}: ${summarizeError(e).text}`);
  // kafkajs (the tests' client) gives up with these; the cause names the address.
  if (/^KafkaJS(Connection|NumberOfRetriesExceeded|BrokerNotFound)/.test(err.name ?? '')) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return user(EXIT.unavailable, `Kafka unavailable: ${message}${cause}`);
  }
  // The embedded engine is one process's: chdb prints "Cannot lock file" itself, then throws this.
  if (err.name === 'ChdbConnectionError' || /Cannot lock file/.test(message)) {
    const path = /path '([^']+)'/.exec(message)?.[1];
    return user(
      EXIT.unavailable,
      `the embedded ClickHouse${path ? ` in ${path}` : ''} is in use by another process (a running \`callboard start\` or service?): ${message.split('\n')[0]}`,
    );
  }
  if (err.cause !== undefined && err.cause !== e) {
    const inner = classify(err.cause);
    if (!inner.internal) return { ...inner, message: `${message}: ${inner.message}` };
  }
  return { exit: EXIT.internal, message, usage: false, internal: true };
}
