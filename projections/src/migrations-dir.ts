import { fileURLToPath } from 'node:url';

/** Numbered ClickHouse DDL files, reviewed like code and applied once each. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
