// Live tests play the simulated hour around now; at night the simulated centre is nearly idle,
// so they play it in a fixed-offset zone where it is about midday.

/** A fixed-offset IANA zone (Etc/GMT±N, sign inverted by convention) whose local hour at `ms` is 11–13. */
export function middayZone(ms: number): string {
  let offset = 12 - new Date(ms).getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}
