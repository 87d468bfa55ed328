export * from './config.ts';
export * from './log.ts';
export * from './metrics.ts';
export * from './health.ts';
export * from './kafka.ts';
export * from './kafka-local.ts';
export * from './clickhouse.ts';
export * from './shutdown.ts';
