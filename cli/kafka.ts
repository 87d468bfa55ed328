import { join } from 'node:path';
import { ensureKafkaJars, KAFKA_VERSION, loadConfig, portOpen, startLocalKafka, stopLocalKafka } from '@callboard/platform';

export async function run(argv: string[]): Promise<number> {
  const cfg = loadConfig();
  const dataDir = join(cfg.dataDir, 'kafka');
  const port = cfg.kafka.localPort;
  switch (argv[0]) {
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
      console.error('usage: callboard kafka start|stop|status|fetch');
      return 2;
  }
}
