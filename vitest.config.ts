// Test tiers live in the file name: *.unit.spec.ts (no I/O), *.int.spec.ts (real Kafka and
// ClickHouse), *.e2e.spec.ts (browser and whole stack), *.hostile.spec.ts (hostile input against
// real servers on 127.0.0.1, docs/hostile.md), *.faults.spec.ts (processes killed or cut,
// docs/reliability.md). One broker per run, shared through
// globalSetup; each test isolates itself with its own topics, tenants and ClickHouse database.
import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', 'wallboard/**', 'data/**'];

export default defineConfig({
  test: {
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        test: { name: 'unit', include: ['**/*.unit.spec.ts'], exclude, pool: 'threads', testTimeout: 30_000 },
      },
      {
        // Svelte component tests: the wallboard's Vite config (svelte plugin) in jsdom.
        extends: './wallboard/vite.config.ts',
        test: { name: 'wallboard', root: '.', include: ['wallboard/**/*.unit.spec.ts'], exclude: ['**/node_modules/**'], environment: 'jsdom', testTimeout: 30_000 },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.spec.ts'],
          exclude,
          // Each file gets its own process: the embedded ClickHouse is one engine per process.
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'hostile',
          include: ['**/*.hostile.spec.ts'],
          exclude,
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Fault suite (docs/reliability.md): real processes killed or cut on this machine. One
        // file at a time: each case loads the machine, and timing is part of what it measures.
        test: {
          name: 'faults',
          include: ['test/faults/**/*.faults.spec.ts'],
          exclude,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/*.e2e.spec.ts'],
          exclude,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
