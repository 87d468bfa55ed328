// The projections service as `callboard projections` runs it (projections/src/service.ts): its
// own ClickHouse under CALLBOARD_DATA_DIR, its ops endpoints on PROJECTIONS_OPS_PORT.
import { run } from '../../projections/src/service.ts';

await run([]);
