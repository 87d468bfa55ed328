import { join } from 'node:path';
import { ensureKafkaJars, KAFKA_VERSION, loadConfig, parseOptions, portOpen, startLocalKafka, stopLocalKafka, UsageError } from '@callboard/platform';

const ACTIONS = ['start', 'stop', 'status', 'fetch'];

export async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseOptions(argv, { brokers: { type: 'string' } }, { positionals: ['start|stop|status|fetch'] });
  const action = positionals[0]!;
  // A wrong action is a usage error before the config is read: it cannot depend on a setting.
  if (!ACTIONS.includes(action)) throw new UsageError(`unknown action "${action}"`);
  if (values.brokers !== undefined && action !== 'start') throw new UsageError(`--brokers applies to start only`);
  const nodes = values.brokers === undefined ? 1 : Number(values.brokers);
  // Three, not any count: a combined controller quorum must be odd, and three is what survives
  // one node stopping while still holding two in-sync replicas (docs/kafka.md).
  if (nodes !== 1 && nodes !== 3) throw new UsageError(`--brokers ${values.brokers}: expected 1 or 3`);
  const cfg = loadConfig();
  const dataDir = join(cfg.dataDir, 'kafka');
  const port = cfg.kafka.localPort;
  switch (action) {
    case 'fetch':
      console.log(ensureKafkaJars((m) => console.error(m)));
      return 0;
    case 'start': {
      const k = await startLocalKafka({ port, nodes, dataDir, detached: true, log: (m) => console.error(m) });
      console.log(`KAFKA_BROKERS=${k.brokers.join(',')}`);
      // The services create topics with KAFKA_REPLICATION_FACTOR (default 1); a cluster wants 3.
      if (k.brokers.length > 1) console.log(`KAFKA_REPLICATION_FACTOR=${k.brokers.length}`);
      return 0;
    }
    case 'stop': {
      const n = await stopLocalKafka(dataDir);
      console.error(n > 0 ? `stopped ${n === 1 ? 'the broker' : `${n} brokers`} in ${dataDir}` : `no broker was running from ${dataDir}`);
      return 0;
    }
    case 'status': {
      const up = await portOpen(port);
      console.log(up ? `Kafka ${KAFKA_VERSION}: listening on 127.0.0.1:${port}` : `Kafka: nothing listening on 127.0.0.1:${port}`);
      return up ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown action "${action}"`);
  }
}
