// A large AMI stream for the AMI benchmarks: the four real Asterisk 22 captures, each repeated
// with every epoch-based id and Timestamp shifted, so no call, channel or agent repeats.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAll } from '@callboard/ingest/ami/parser';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const A22 = join(repoRoot, '..', 'shared', 'fixtures', 'ami', 'asterisk22');

/** Capture bodies without their banner and login reply, plus how many frames each holds. */
function captures(): { text: string; frames: number }[] {
  if (!existsSync(A22)) throw new Error(`${A22} is missing: the AMI benchmarks replay the real captures in ../shared/fixtures`);
  return readdirSync(A22)
    .filter((d) => existsSync(join(A22, d, 'capture.ami')))
    .map((d) => {
      const frames = parseAll(readFileSync(join(A22, d, 'capture.ami'), 'utf8')).filter((f) => f.kind === 'event' || (f.kind === 'response' && !f.headers.ActionID?.startsWith('cap-')));
      return { text: frames.map((f) => f.raw).join(''), frames: frames.length };
    });
}

/**
 * `copies` rounds of all captures; round k shifts every `<epoch>.<n>` value (Uniqueid,
 * Linkedid, Timestamp) by k·2000 s, so ids and times stay consistent within a call.
 */
export function corpus(copies: number): { text: string; frames: number } {
  const caps = captures();
  const parts: string[] = [];
  let frames = 0;
  for (let k = 0; k < copies; k++) {
    for (const c of caps) {
      parts.push(k === 0 ? c.text : c.text.replace(/\b(17953\d{5})\.(\d+)\b/g, (_m, s: string, f: string) => `${Number(s) + k * 2000}.${f}`));
      frames += c.frames;
    }
  }
  return { text: parts.join(''), frames };
}
