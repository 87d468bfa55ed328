// Prometheus metrics are declared once, here or next to the module that owns them, with unit
// suffixes. One registry per process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'callboard_' });

export function counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<string>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<string>;
  return new Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });
}

/** Events that went to the dead-letter topic, by stage and reason code. */
export const dlqTotal = counter('callboard_dlq_events_total', 'Events sent to the dead-letter topic', ['stage', 'source', 'reason']);
