// `callboard bench [name…] [-- options]`: lists the benchmark scripts of bench/, or runs the
// named ones one after another (never in parallel: they would measure each other). A script is a
// benchmark when its header names its own `npx tsx bench/<name>.ts` command; helpers do not.
// Scripts that need a broker (their header says KAFKA_BROKERS=…) get KAFKA_BROKERS, or the local
// broker of `callboard kafka start` (started here, and stopped on exit, if none is running).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig, nearestName, resolveBrokers, UsageError } from '@callboard/platform';

const BENCH_DIR = fileURLToPath(new URL('../bench/', import.meta.url));

export interface Bench {
  name: string;
  summary: string;
  usage: string;
  needsBroker: boolean;
}

export function listBenches(dir = BENCH_DIR): Bench[] {
  const out: Bench[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.ts')) continue;
    const name = f.slice(0, -3);
    const header = readFileSync(`${dir}${f}`, 'utf8').split('\n');
    const comment = header.slice(0, header.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/\s?/, ''));
    const usage = comment.find((l) => l.includes(`npx tsx bench/${name}.ts`));
    // Spawned by other benchmarks, not run on its own.
    if (!usage || name.endsWith('-harness')) continue;
    const text = comment.join(' ').replace(/\s+/g, ' ');
    out.push({ name, summary: firstSentence(text), usage: usage.trim(), needsBroker: usage.includes('KAFKA_BROKERS=') });
  }
  return out;
}

/** The header's first sentence, cut at a word near `max` characters. */
function firstSentence(text: string, max = 100): string {
  const s = (text.match(/^.*?\.(\s|$)/)?.[0] ?? text).trim().replace(/\.$/, '');
  return s.length <= max ? s : `${s.slice(0, s.lastIndexOf(' ', max))} …`;
}

function runScript(b: Bench, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${BENCH_DIR}${b.name}.ts`, ...args], { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export async function run(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const names = dash < 0 ? argv : argv.slice(0, dash);
  const args = dash < 0 ? [] : argv.slice(dash + 1);
  const all = listBenches();
  if (!names.length) {
    const w = Math.max(...all.map((b) => b.name.length));
    process.stdout.write(
      `Benchmarks (bench/README.md; figures in docs/BENCHMARKS.md):\n${all.map((b) => `  ${b.name.padEnd(w)}  ${b.summary}${b.needsBroker ? ' [broker]' : ''}`).join('\n')}\n\n` +
        `Run: callboard bench NAME… [-- options of the script]\n`,
    );
    return 0;
  }
  const chosen = names.map((n) => {
    const b = all.find((x) => x.name === n);
    if (!b) {
      const near = nearestName(n, all.map((x) => x.name));
      throw new UsageError(`unknown benchmark "${n}"${near ? `, did you mean "${near}"?` : ''}`);
    }
    return b;
  });
  const env = { ...process.env };
  let stopBroker: (() => Promise<void>) | null = null;
  if (chosen.some((b) => b.needsBroker) && !env.KAFKA_BROKERS) {
    const cfg = loadConfig();
    const { cfg: withBroker, local } = await resolveBrokers(cfg, createLogger('bench', cfg.logLevel));
    env.KAFKA_BROKERS = withBroker.kafka.brokers.join(',');
    if (local) stopBroker = () => local.stop();
  }
  let failed = 0;
  try {
    for (const b of chosen) {
      process.stdout.write(`\n== ${b.name}: ${b.usage}${args.length ? ` (with ${args.join(' ')})` : ''}\n`);
      const code = await runScript(b, args, env);
      if (code !== 0) {
        failed++;
        process.stderr.write(`callboard bench: ${b.name} exited with ${code}\n`);
      }
    }
  } finally {
    await stopBroker?.();
  }
  return failed ? 1 : 0;
}
