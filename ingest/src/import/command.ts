// `callboard import asterisk` (table in cli.ts): arguments, config and Kafka; the work is in
// asterisk.ts. Exit codes: 0 done (rejected lines are dead-lettered and listed, not a failure),
// 2 usage, 78 config (thrown ConfigError).
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import {
  createKafka,
  createLogger,
  ensureTopics,
  isIanaZone,
  isIsoInstant,
  loadConfig,
  tenantById,
  UsageError,
  type CallboardConfig,
  type Logger,
} from '@callboard/platform';
import { IngestPipeline } from '../pipeline.ts';
import { IngestSink, type IngestSink as Sink } from '../sink.ts';
import { importAsterisk, summaryText } from './asterisk.ts';
import { ASTERISK_OPTIONS, YEASTAR_OPTIONS } from './options.ts';
import { replayAmi } from './replay.ts';
import { replayYeastar } from './replay-yeastar.ts';
import { importYeastar } from './yeastar-import.ts';

/** A usage error: cli/main.ts prints it with the command's usage line and exits 2. */
function usage(msg: string, _command: 'import' | 'replay' = 'import'): never {
  throw new UsageError(msg);
}

/** A connected producer on the configured broker (topics ensured), and how to let it go. */
async function kafkaSink(cfg: CallboardConfig, log: Logger): Promise<{ sink: IngestSink; stop: () => Promise<void> }> {
  const kafka = createKafka(cfg, log, `${cfg.kafka.clientId}-import`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, cfg);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return { sink: new IngestSink(producer, cfg), stop: () => producer.disconnect() };
}

/** Writes canonical events as NDJSON on stdout and dead letters as lines on stderr (--stdout). */
function stdoutSink(): Pick<Sink, 'raw' | 'canonical' | 'dlq'> {
  return {
    raw: async () => [],
    canonical: async (events) => {
      process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    },
    dlq: async (records) => {
      for (const d of records) process.stderr.write(`${d.reason_code}: ${d.reason}\n`);
    },
  };
}

/** Where an import writes: Kafka through the shell, or stdout (--stdout); and how to let it go. */
async function importSink(
  cfg: CallboardConfig,
  log: Logger,
  toStdout: boolean | undefined,
): Promise<{ sink: Pick<Sink, 'raw' | 'canonical' | 'dlq'>; stop: () => Promise<void> }> {
  if (toStdout) return { sink: stdoutSink(), stop: async () => {} };
  if (cfg.kafka.brokers.length === 0) usage('KAFKA_BROKERS is not set: an import writes to cc.events.v1 (or use --stdout)');
  return kafkaSink(cfg, log);
}

async function runYeastar(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: YEASTAR_OPTIONS,
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (!values.cdr) return usage('--cdr is required');
  if (!values.tenant || !values.pbx) return usage('--tenant and --pbx are required');
  if (values.tz && !isIanaZone(values.tz)) return usage(`--tz ${values.tz}: expected an IANA time zone such as Africa/Nairobi`);
  const series = (values.series ?? 'p').toLowerCase();
  if (series !== 'p' && series !== 's') return usage(`--series ${values.series}: expected p or s`);
  const order = (values['date-order'] ?? 'mdy').toUpperCase();
  if (order !== 'MDY' && order !== 'DMY') return usage(`--date-order ${values['date-order']}: expected mdy or dmy (the PBX's date display format)`);
  const cfg = loadConfig();
  // Yeastar writes CDR times in the PBX's zone without an offset: without a zone they cannot be read.
  const timezone = values.tz ?? tenantById(cfg, values.tenant)?.timezone;
  if (!timezone) return usage(`--tz is required: tenant ${values.tenant} is not configured, and Yeastar CDR times are the PBX's local time`);
  const log = createLogger('import', cfg.logLevel);
  const { sink, stop } = await importSink(cfg, log, values.stdout);
  const pipeline = new IngestPipeline({ source: series === 's' ? 'yeastar-s' : 'yeastar-p', tenant_id: values.tenant, pbx_id: values.pbx, sink, log });
  try {
    const summary = await importYeastar({
      cdr: values.cdr,
      tenant_id: values.tenant,
      pbx_id: values.pbx,
      series,
      timezone,
      order,
      pipeline,
      received_at: Date.now(),
    });
    process.stderr.write(summaryText(summary));
  } catch (e) {
    if (/no such file|not a regular file|not a Yeastar CDR export/.test((e as Error).message)) return usage((e as Error).message);
    throw e;
  } finally {
    pipeline.close();
    await stop();
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [vendor, ...rest] = argv;
  if (vendor === 'yeastar') return runYeastar(rest);
  if (vendor !== 'asterisk') return usage(vendor ? `unknown source "${vendor}" (known: asterisk, yeastar)` : 'which PBX? (asterisk or yeastar)');
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: ASTERISK_OPTIONS,
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (!values['queue-log']) return usage('--queue-log is required');
  if (!values.tenant || !values.pbx) return usage('--tenant and --pbx are required');
  if (values.tz && !isIanaZone(values.tz)) return usage(`--tz ${values.tz}: expected an IANA time zone such as Europe/Rome`);
  const until = values.until !== undefined ? Date.parse(values.until) : undefined;
  if (values.until !== undefined && (!isIsoInstant(values.until) || !Number.isFinite(until)))
    return usage(`--until ${values.until}: expected an ISO-8601 instant such as 2026-11-22T00:00:00Z`);
  const cfg = loadConfig();
  const log = createLogger('import', cfg.logLevel);
  const { sink, stop } = await importSink(cfg, log, values.stdout);
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: values.tenant, pbx_id: values.pbx, sink, log });
  try {
    const summary = await importAsterisk({
      queueLog: values['queue-log'],
      ...(values.cdr ? { cdr: values.cdr } : {}),
      tenant_id: values.tenant,
      pbx_id: values.pbx,
      ...(values.tz ? { timezone: values.tz } : {}),
      pipeline,
      log,
      received_at: Date.now(),
      ...(until !== undefined ? { until } : {}),
    });
    process.stderr.write(summaryText(summary));
  } catch (e) {
    // A file that cannot be read is a one-line usage problem, not a stack trace.
    if (/no such file|not a regular file/.test((e as Error).message)) return usage((e as Error).message);
    throw e;
  } finally {
    pipeline.close();
    await stop();
  }
  return 0;
}

export async function replay(argv: string[]): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        source: { type: 'string' },
        tenant: { type: 'string' },
        pbx: { type: 'string' },
        speed: { type: 'string' },
        series: { type: 'string' },
        tz: { type: 'string' },
      },
    }));
  } catch (e) {
    return usage((e as Error).message, 'replay');
  }
  const capture = positionals[0];
  const source = values.source === 'yeastar' ? `yeastar-${(values.series ?? 'p').toLowerCase()}` : values.source;
  if (source !== 'ami' && source !== 'yeastar-p' && source !== 'yeastar-s')
    return usage(
      values.source
        ? `--source ${values.source}${values.series ? ` --series ${values.series}` : ''}: expected ami, or yeastar with --series p or s`
        : '--source is required',
      'replay',
    );
  if (values.tz && !isIanaZone(values.tz)) return usage(`--tz ${values.tz}: expected an IANA time zone such as Africa/Nairobi`, 'replay');
  if (!capture || !values.tenant || !values.pbx) return usage('CAPTURE, --tenant and --pbx are required', 'replay');
  if (!existsSync(capture)) return usage(`${capture}: no such file`, 'replay');
  const speed = values.speed === undefined ? 1 : values.speed === 'max' ? Infinity : Number(values.speed);
  if (!(speed > 0)) return usage(`--speed ${values.speed}: expected a positive number or max`, 'replay');
  const cfg = loadConfig();
  if (cfg.kafka.brokers.length === 0) return usage('KAFKA_BROKERS is not set: a replay writes to pbx.raw.v1 and cc.events.v1', 'replay');
  // Yeastar CDR times are the PBX's local time: --tz, else the configured PBX's or tenant's zone.
  const timezone = values.tz ?? cfg.pbxes.find((p) => p.id === values.pbx)?.timezone ?? tenantById(cfg, values.tenant)?.timezone;
  if (source !== 'ami' && !timezone)
    return usage(
      `--tz is required: neither PBX ${values.pbx} nor tenant ${values.tenant} is configured, and Yeastar CDR times are the PBX's local time`,
      'replay',
    );
  const log = createLogger('replay', cfg.logLevel);
  const { sink, stop } = await kafkaSink(cfg, log);
  const started = Date.now();
  let what = '';
  try {
    if (source === 'ami') await replayAmi({ capture, speed, cfg, tenant_id: values.tenant, pbx_id: values.pbx, sink, log });
    else {
      const queues = cfg.queues.filter((q) => q.tenant === values.tenant).map((q) => q.queue);
      const r = await replayYeastar({ capture, source, timezone: timezone!, queues, speed, tenant_id: values.tenant, pbx_id: values.pbx, sink, log });
      what = ` (${r.messages} messages)`;
    }
  } finally {
    await stop();
  }
  process.stderr.write(`replay: ${capture}${what} played as PBX ${values.pbx} of tenant ${values.tenant} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}
