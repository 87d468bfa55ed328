// docker-compose.yml, the Dockerfile and deploy/ are not run in CI (no Docker engine there), so
// this checks what can be checked without one: the file parses, everything it references
// exists, every `callboard <cmd>` it runs exists, nothing holds a literal password, and the
// Grafana dashboard only queries bi_* views that the migrations create.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { extraCommands } from '../cli/commands.ts';
import { BI_TABLES } from '../projections/src/bi-access.ts';

const root = resolve(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number>;
  env_file?: (string | { path: string; required?: boolean })[];
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, unknown>;
}
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

/** `${VAR:-default}` → default; `${VAR:?msg}` and `${VAR}` stay unresolved (no value in the repo). */
function interpolateDefaults(s: string): string {
  return s.replace(/\$\{([A-Z0-9_]+):?-([^}]*)\}/g, (_, _v: string, d: string) => d);
}

/** CLI commands: cli/main.ts's own table (read as text: importing main.ts runs the CLI) plus every folder's table. */
function cliCommands(): Set<string> {
  const main = read('cli/main.ts');
  const table = main.slice(main.indexOf('export const COMMANDS'), main.indexOf('};', main.indexOf('export const COMMANDS')));
  const own = [...table.matchAll(/^ {2}['"]?([a-z][\w-]*)['"]?: \{/gm)].map((m) => m[1]!);
  expect(own.length, 'no commands found in cli/main.ts').toBeGreaterThan(0);
  return new Set([...own, ...Object.keys(extraCommands)]);
}

const callboardServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

describe('docker-compose.yml', () => {
  it('has the production-shaped stack: Kafka, ClickHouse, the three services, simulator under demo, Grafana under bi', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'clickhouse', 'grafana', 'ingest', 'kafka', 'projections', 'simulator']);
    for (const name of ['kafka', 'clickhouse', 'ingest', 'projections', 'api']) expect(services[name]!.profiles, name).toBeUndefined();
    expect(services.simulator!.profiles).toEqual(['demo']);
    expect(services.grafana!.profiles).toEqual(['bi']);
    expect(services.kafka!.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(services.kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(services.clickhouse!.image).toMatch(/^clickhouse\/clickhouse-server:/);
  });

  it('builds every Callboard service from the one Dockerfile in the repo, one image', () => {
    expect(callboardServices.map(([n]) => n).sort()).toEqual(['api', 'ingest', 'projections', 'simulator']);
    const images = new Set(callboardServices.map(([, s]) => s.image));
    expect(images.size).toBe(1);
    for (const [name, s] of callboardServices) {
      const b = typeof s.build === 'string' ? { context: s.build } : s.build!;
      const ctx = join(root, b.context);
      expect(existsSync(ctx) && statSync(ctx).isDirectory(), `${name}: build context ${b.context}`).toBe(true);
      expect(existsSync(join(ctx, b.dockerfile ?? 'Dockerfile')), `${name}: ${b.dockerfile ?? 'Dockerfile'}`).toBe(true);
    }
  });

  it('runs only `callboard` commands that exist in the CLI', () => {
    const known = cliCommands();
    for (const [name, s] of callboardServices) {
      const argv = typeof s.command === 'string' ? s.command.split(/\s+/) : s.command!;
      expect(argv?.length, `${name} has a command`).toBeGreaterThan(0);
      expect(known.has(argv[0]!), `${name}: \`callboard ${argv[0]}\` is not a CLI command (known: ${[...known].sort().join(', ')})`).toBe(true);
    }
  });

  it('references only files and folders that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const src = interpolateDefaults(v).split(':')[0]!;
        if (!src.startsWith('.') && !src.startsWith('/')) {
          expect(compose.volumes, `${name}: named volume ${src} is declared`).toHaveProperty(src);
          continue;
        }
        expect(existsSync(join(root, src)), `${name}: ${v}`).toBe(true);
      }
      for (const f of s.env_file ?? []) {
        const { path, required = true } = typeof f === 'string' ? { path: f } : f;
        if (required) expect(existsSync(join(root, path)), `${name}: env_file ${path}`).toBe(true);
      }
    }
  });

  it('gives every service a health check, and every stateful one a volume', () => {
    for (const [name, s] of Object.entries(services)) expect(s.healthcheck?.test, `${name} has a health check`).toBeDefined();
    expect(services.kafka!.volumes!.some((v) => v.startsWith('kafka-data:'))).toBe(true);
    expect(services.clickhouse!.volumes!.some((v) => v.startsWith('clickhouse-data:/var/lib/clickhouse'))).toBe(true);
    expect(services.grafana!.volumes!.some((v) => v.startsWith('grafana-data:'))).toBe(true);
  });

  it('points the services at the compose Kafka and ClickHouse, and waits for them to be healthy', () => {
    for (const name of ['ingest', 'projections', 'api']) {
      const s = services[name]!;
      expect(s.environment).toMatchObject({
        KAFKA_BROKERS: 'kafka:9092',
        CLICKHOUSE_URL: 'http://clickhouse:8123',
        CALLBOARD_CONFIG: '/etc/callboard/callboard.yaml',
      });
      expect(s.depends_on).toMatchObject({ kafka: { condition: 'service_healthy' }, clickhouse: { condition: 'service_healthy' } });
    }
    expect(services.api!.ports!.some((p) => String(p).endsWith(':4000'))).toBe(true);
  });

  it('holds no literal password: every secret comes from a required environment variable', () => {
    const secretKey = /PASSWORD|SECRET|TOKEN/;
    for (const [name, s] of Object.entries(services)) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (!secretKey.test(k)) continue;
        expect(String(v), `${name}.${k}`).toMatch(/^\$\{[A-Z0-9_]+:\?[^}]*\}$/);
      }
    }
    // No `:-default` fallback on any secret anywhere in the file.
    expect(read('docker-compose.yml')).not.toMatch(/\$\{[A-Z0-9_]*(PASSWORD|SECRET|TOKEN)[A-Z0-9_]*:-/);
  });
});

describe('Dockerfile', () => {
  const df = read('Dockerfile');
  const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;

  it('is one node:22-slim image that installs with npm ci, builds the wallboard and runs the callboard CLI', () => {
    expect(df).toMatch(/^FROM node:22-slim$/m);
    expect(df).toMatch(/npm ci\b/);
    expect(df).toMatch(/npm run build -w wallboard/);
    expect(df).toMatch(/^ENTRYPOINT \["node", "bin\/callboard.mjs"\]$/m);
    expect(df).toMatch(/^USER node$/m);
  });

  it("copies every workspace's package.json before installing (so npm ci sees the whole workspace)", () => {
    for (const w of workspaces) expect(df, w).toContain(`COPY ${w}/package.json ${w}/`);
    for (const m of df.matchAll(/^COPY (?!--from)(\S+(?: \S+)*) \S+$/gm)) {
      for (const src of m[1]!.split(' ')) if (src !== '.') expect(existsSync(join(root, src)), `COPY ${src}`).toBe(true);
    }
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignore = read('.dockerignore').split('\n');
    for (const p of ['**/node_modules', 'data', '.env', '.git']) expect(ignore).toContain(p);
  });
});

describe('deploy/', () => {
  it('ClickHouse users take their passwords from the environment, never from the file', () => {
    const dir = join(root, 'deploy', 'clickhouse');
    for (const sub of readdirSync(dir)) {
      for (const f of readdirSync(join(dir, sub))) {
        const xml = readFileSync(join(dir, sub, f), 'utf8');
        for (const m of xml.matchAll(/<password[^>]*>/g)) expect(m[0], `${sub}/${f}`).toMatch(/from_env="[A-Z0-9_]+"\s*\/>/);
        expect(xml, `${sub}/${f}`).not.toMatch(/<password_sha256_hex>|<password>[^<]/);
      }
    }
  });

  it('the read-only bi user has a row policy on every table the projections put tenant row policies on', () => {
    // Without one it would see no rows at all once bi-access.ts has created tenant policies.
    const xml = read('deploy/clickhouse/users.d/bi.xml');
    const db = xml.slice(xml.indexOf('<databases>'), xml.indexOf('</databases>'));
    const filtered = [...db.matchAll(/<(\w+)><filter>1<\/filter><\/\1>/g)].map((m) => m[1]!);
    expect(filtered.sort()).toEqual([...BI_TABLES].sort());
  });

  it('the Grafana data source is the ClickHouse plugin, with its password from the environment', () => {
    const ds = YAML.parse(read('deploy/grafana/provisioning/datasources/clickhouse.yaml')) as {
      datasources: { type: string; uid: string; jsonData: Record<string, unknown>; secureJsonData: { password: string } }[];
    };
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]!.type).toBe('grafana-clickhouse-datasource');
    expect(ds.datasources[0]!.jsonData).toMatchObject({ host: 'clickhouse', defaultDatabase: 'callboard' });
    expect(ds.datasources[0]!.secureJsonData.password).toMatch(/^\$\{?[A-Z0-9_]+\}?$/);
    expect(services.grafana!.environment).toHaveProperty(ds.datasources[0]!.secureJsonData.password.replace(/[${}]/g, ''));
    expect(String(services.grafana!.environment!.GF_INSTALL_PLUGINS)).toContain('grafana-clickhouse-datasource');
  });

  it('the provisioned dashboard queries only bi_* views that the migrations create, through the provisioned data source', () => {
    const provider = YAML.parse(read('deploy/grafana/provisioning/dashboards/callboard.yaml')) as { providers: { options: { path: string } }[] };
    const mount = services.grafana!.volumes!.find((v) => v.split(':')[1] === provider.providers[0]!.options.path);
    expect(mount, 'the dashboards folder is mounted where the provider looks').toBeDefined();
    const dashDir = join(root, mount!.split(':')[0]!);
    const files = readdirSync(dashDir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);

    const migrationsDir = join(root, 'projections', 'migrations');
    const sql = readdirSync(migrationsDir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => readFileSync(join(migrationsDir, f), 'utf8'))
      .join('\n');
    const views = new Set(
      [...sql.matchAll(/CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\{\{db\}\}\.|\w+\.)?(bi_\w+)/gi)].map((m) => m[1]!),
    );

    for (const f of files) {
      const text = readFileSync(join(dashDir, f), 'utf8');
      const dash = JSON.parse(text) as { panels: { datasource?: { uid: string }; targets?: { rawSql?: string; datasource?: { uid: string } }[] }[] };
      const used = new Set([...text.matchAll(/\bbi_\w+/g)].map((m) => m[0]));
      expect(used.size, `${f} queries at least one bi_* view`).toBeGreaterThan(0);
      for (const v of used)
        expect(views.has(v), `${f} queries ${v}, which no migration in projections/migrations creates (views: ${[...views].join(', ') || 'none'})`).toBe(true);
      const internal = [...text.matchAll(/\bFROM\s+(?:callboard\.)?(\w+)/gi)].map((m) => m[1]!).filter((t) => !t.startsWith('bi_'));
      expect(internal, `${f}: BI reads documented views, never internal tables`).toEqual([]);
      for (const p of dash.panels) for (const t of p.targets ?? []) expect((t.datasource ?? p.datasource)?.uid).toBe('callboard-clickhouse');
    }
  });

  it('the config files the compose stack mounts are valid Callboard configs', async () => {
    const { loadConfig } = await import('../platform/src/config.ts');
    for (const f of readdirSync(join(root, 'deploy')).filter((x) => /^callboard.*\.ya?ml$/.test(x))) {
      const file = YAML.parse(read(join('deploy', f))) as Record<string, unknown>;
      expect(() => loadConfig({ env: {}, file }), f).not.toThrow();
    }
  });
});
