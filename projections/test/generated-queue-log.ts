// A generated queue_log for the tests of the PBX records read in batches (reconcile-stream.*.spec.ts).

// Deterministic pseudo-random numbers, so a failure can be reproduced.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32;
}

/**
 * Three days of a small centre, calls round the clock (some waiting over midnight), answered,
 * abandoned, exited on timeout, rung without answer, transferred blind and attended and queued
 * again under the same call id an hour later, left waiting forever; pauses of minutes to hours,
 * some never ended; an unreadable line now and then.
 */
export function generatedLog(days: number): string {
  const rnd = random(14);
  const t0 = Date.parse('2026-11-02T00:00:00Z') / 1000;
  const lines: [number, number, string][] = [];
  let seq = 0;
  const add = (t: number, s: string) => lines.push([t, seq++, `${t}|${s}`]);
  const agent = () => `Agent ${1001 + Math.floor(rnd() * 12)}`;
  for (let a = 0; a < 12; a++) add(t0, `MANAGER|q${a % 3}|Agent ${1001 + a}|ADDMEMBER|`);
  const calls = days * 400;
  for (let n = 0; n < calls; n++) {
    const t = t0 + Math.floor((n * days * 86_400) / calls) + Math.floor(rnd() * 100);
    const id = `${t}.${n}`;
    const q = `q${n % 3}`;
    const wait = Math.floor(rnd() * 300);
    const talk = 20 + Math.floor(rnd() * 900);
    add(t, `${id}|${q}|NONE|ENTERQUEUE||2547${n}|1`);
    const kind = n % 11;
    if (kind === 0) add(t + wait, `${id}|${q}|NONE|ABANDON|1|1|${wait}`);
    else if (kind === 1) add(t + wait, `${id}|${q}|NONE|EXITWITHTIMEOUT|1|1|${wait}`);
    else if (kind === 2 && n % 5 === 0)
      continue; // never leaves the queue: open at the end
    else {
      const who = agent();
      if (kind === 3) add(t + Math.floor(wait / 2), `${id}|${q}|${agent()}|RINGNOANSWER|15000`);
      add(t + wait, `${id}|${q}|${who}|CONNECT|${wait}|${id}.9|3`);
      if (kind === 4) {
        add(t + wait + talk, `${id}|${q}|${who}|BLINDTRANSFER|1042|agents|${wait}|${talk}|1`);
        // queued again an hour later under the same call id: the first leg's call went on
        const again = t + wait + talk + 3600;
        add(again, `${id}|q${(n + 1) % 3}|NONE|ENTERQUEUE||2547${n}|1`);
        add(again + 10, `${id}|q${(n + 1) % 3}|${who}|CONNECT|10|${id}.10|2`);
        add(again + 70, `${id}|q${(n + 1) % 3}|${who}|COMPLETECALLER|10|60|1`);
      } else if (kind === 5) add(t + wait + talk, `${id}|${q}|${who}|ATTENDEDTRANSFER|BRIDGE|${id}.11|${wait}|${talk}|1`);
      else if (kind === 6 && n > calls - 40)
        continue; // still talking when the log ends
      else add(t + wait + talk, `${id}|${q}|${who}|${n % 2 ? 'COMPLETECALLER' : 'COMPLETEAGENT'}|${wait}|${talk}|1`);
    }
    if (n % 50 === 7) {
      const who = agent();
      const pause = t + 30;
      add(pause, `NONE|${q}|${who}|${n % 100 === 7 ? 'PAUSEALL' : 'PAUSE'}|${n % 3 ? 'Lunch' : 'Training'}`);
      if (n % 150 !== 7) add(pause + Math.floor(rnd() * 3 * 3600), `NONE|${q}|${who}|${n % 100 === 7 ? 'UNPAUSEALL' : 'UNPAUSE'}|`);
    }
    if (n % 333 === 1) add(t + 1, 'not a queue_log line');
  }
  lines.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return lines.map((l) => l[2]).join('\n') + '\n';
}
