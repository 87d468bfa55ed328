// Helpers for the bench/api-*.ts scripts: start the harness process, percentiles, RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { makeEvent, type CanonicalEvent, type EventOf, type EventType } from '@callboard/schemas';

export interface Harness {
  url: string;
  pid: number;
  tokens: { analyst: string; display: string };
  board: string;
  topic: string;
  brokers: string[];
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `nodeArgs` go to the API process's node (e.g. `--cpu-prof`, `--cpu-prof-dir=DIR`: written when it exits). */
export async function startHarness(args: string[] = [], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Harness> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', new URL('./api-harness.ts', import.meta.url).pathname, ...args], {
    env: { ...process.env, API_RATE_BURST: '10000000', API_RATE_PER_SECOND: '1000000', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`api-harness exited with ${code}`)));
  });
  const info = JSON.parse(line) as Omit<Harness, 'child' | 'stop'>;
  return {
    ...info,
    child,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

export function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/** Resident and peak resident memory of a process, MiB (Linux /proc). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

let n = 0;
export function event<T extends EventType>(type: T, subject: { call_id: string } | { agent_id: string }, payload: EventOf<T>['payload'], at = Date.now()): CanonicalEvent {
  const iso = new Date(at).toISOString();
  return makeEvent(type, { tenant_id: 'acme', pbx_id: 'bench', source: 'simulator', occurred_at: iso, received_at: iso, raw_ref: null, vendor_key: `bench|${process.pid}|${n++}` }, subject as never, payload) as CanonicalEvent;
}

/** Reads an SSE response, calling `onData` with each `data:` payload parsed. */
export async function readSse(body: ReadableStream<Uint8Array>, onData: (d: unknown, at: number) => void): Promise<void> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const at = Date.now();
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const l of frame.split('\n')) if (l.startsWith('data:')) onData(JSON.parse(l.slice(5)), at);
    }
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
