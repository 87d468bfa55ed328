// `callboard import asterisk` (table in cli.ts): arguments, config and Kafka; the work is in
// asterisk.ts. Exit codes: 0 done (rejected lines are dead-lettered and listed, not a failure),
// 2 usage, 78 config (thrown ConfigError).
import { parseArgs } from 'node:util';
import { createKafka, createLogger, ensureTopics, isIanaZone, isIsoInstant, loadConfig } from '@callboard/platform';
import { IngestPipeline } from '../pipeline.ts';
import { IngestSink, type IngestSink as Sink } from '../sink.ts';
import { importAsterisk, summaryText } from './asterisk.ts';
import { commands } from './cli.ts';

function usage(msg: string): number {
  process.stderr.write(`callboard import: ${msg}\nUsage: ${commands.import!.usage}\n`);
  return 2;
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

export async function run(argv: string[]): Promise<number> {
  const [vendor, ...rest] = argv;
  if (vendor !== 'asterisk') return usage(vendor ? `unknown source "${vendor}" (known: asterisk)` : 'which PBX? (asterisk)');
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        'queue-log': { type: 'string' },
        cdr: { type: 'string' },
        tenant: { type: 'string' },
        pbx: { type: 'string' },
        'cdr-tz': { type: 'string' },
        until: { type: 'string' },
        stdout: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (!values['queue-log']) return usage('--queue-log is required');
  if (!values.tenant || !values.pbx) return usage('--tenant and --pbx are required');
  if (values['cdr-tz'] && !isIanaZone(values['cdr-tz'])) return usage(`--cdr-tz ${values['cdr-tz']}: expected an IANA time zone such as Europe/Rome`);
  const until = values.until !== undefined ? Date.parse(values.until) : undefined;
  if (values.until !== undefined && (!isIsoInstant(values.until) || !Number.isFinite(until))) return usage(`--until ${values.until}: expected an ISO-8601 instant such as 2026-11-22T00:00:00Z`);
  const cfg = loadConfig();
  const log = createLogger('import', cfg.logLevel);
  let sink: Pick<Sink, 'raw' | 'canonical' | 'dlq'>;
  let stop = async () => {};
  if (values.stdout) {
    sink = stdoutSink();
  } else {
    if (cfg.kafka.brokers.length === 0) return usage('KAFKA_BROKERS is not set: an import writes to cc.events.v1 (or use --stdout)');
    const kafka = createKafka(cfg, log, `${cfg.kafka.clientId}-import`);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, cfg);
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    sink = new IngestSink(producer, cfg);
    stop = () => producer.disconnect();
  }
  const pipeline = new IngestPipeline({ source: 'ami', tenant_id: values.tenant, pbx_id: values.pbx, sink, log });
  try {
    const summary = await importAsterisk({
      queueLog: values['queue-log'],
      ...(values.cdr ? { cdr: values.cdr } : {}),
      tenant_id: values.tenant,
      pbx_id: values.pbx,
      ...(values['cdr-tz'] ? { cdrTimezone: values['cdr-tz'] } : {}),
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
