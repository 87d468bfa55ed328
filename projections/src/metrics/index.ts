// The metrics module's public face: METRICS.md formulas (formulas.ts) and their SQL halves (sql.ts).
export * from './formulas.ts';
export * from './sql.ts';
