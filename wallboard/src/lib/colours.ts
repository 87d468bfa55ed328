// Queue colours: one colour per queue, the same on every tile of a board (queue table row
// marker, agents' queue chips, the chart's key, the alert banner). A queue's configured
// `colour` (config `queues[].colour`) wins; the others take the palette in queue order.

/**
 * The default palette: Okabe–Ito colours told apart with every common colour-vision deficiency
 * (sky blue, reddish purple, blue) and Paul Tol's grey, leaving out the ones that look like the
 * threshold colours (green OK, amber WARN, red ALERT), so a queue marker never reads as a level.
 */
export const QUEUE_PALETTE = ['#56b4e9', '#cc79a7', '#0072b2', '#bbbbbb'] as const;

/** The threshold colours of both themes (app.css --ok, --warn, --alert), which queue colours must not resemble. */
export const LEVEL_COLOURS = ['#3ecf8e', '#f5b83d', '#ff5c5c', '#00ff6a', '#ffe600', '#ff3b3b'] as const;

/** Queue → colour for a board's queues (in the order given: the board's, sorted by queue id). */
export function queueColours(queues: readonly { queue: string; colour?: string | null }[]): Map<string, string> {
  const out = new Map<string, string>();
  let next = 0;
  for (const q of queues) out.set(q.queue, q.colour ?? QUEUE_PALETTE[next++ % QUEUE_PALETTE.length]!);
  return out;
}

/** #rgb or #rrggbb → [r, g, b] 0–255. */
export function rgbOf(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}
