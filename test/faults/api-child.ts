// An API process for fault 5, started and SIGKILLed by the suite: the embedded ClickHouse at
// FAULT_CH_PATH (prepared and released by the suite), the public port FAULT_API_PORT.
import { Health, createClickHouse, createLogger, loadConfig } from '@callboard/platform';
import { startApi } from '@callboard/api/main';

const cfg = loadConfig();
const log = createLogger('fault-api', process.env.LOG_LEVEL ?? 'warn');
const ch = await createClickHouse(cfg, { embeddedPath: process.env.FAULT_CH_PATH! });
await startApi({ cfg, log, health: new Health(), ch, port: Number(process.env.FAULT_API_PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
