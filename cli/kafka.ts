import { join } from 'node:path';
import { ensureKafkaJars, KAFKA_VERSION, loadConfig, parseOptions, portOpen, startLocalKafka, stopLocalKafka, UsageError } from '@callboard/platform';

const ACTIONS = ['start', 'stop', 'status', 'fetch'];

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseOptions(argv, {}, { positionals: ['start|stop|status|fetch'] });
  const action = positionals[0]!;
  // A wrong action is a usage error before the config is read: it cannot depend on a setting.
  if (!ACTIONS.includes(action)) throw new UsageError(`unknown action "${action}"`);
  const cfg = loadConfig();
  const dataDir = join(cfg.dataDir, 'kafka');
  const port = cfg.kafka.localPort;
  switch (action) {
    case 'fetch':
      console.log(ensureKafkaJars((m) => console.error(m)));
      return 0;
    case 'start': {
      const k = await startLocalKafka({ port, dataDir, detached: true, log: (m) => console.error(m) });
      console.log(`KAFKA_BROKERS=${k.brokers.join(',')}`);
      return 0;
    }
    case 'stop':
      console.error((await stopLocalKafka(dataDir)) ? `stopped the broker in ${dataDir}` : `no broker was running from ${dataDir}`);
      return 0;
    case 'status': {
      const up = await portOpen(port);
      console.log(up ? `Kafka ${KAFKA_VERSION}: listening on 127.0.0.1:${port}` : `Kafka: nothing listening on 127.0.0.1:${port}`);
      return up ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown action "${action}"`);
  }
}
