// The items one resync (QueueStatus / CoreShowChannels with our ActionID) has listed so far;
// filled by the member and resync handlers, read when the resync completes.
import { RESYNC_ACTION_PREFIX, type TranslatorState, type ResyncItems } from '../state.ts';
import type { Cx } from './context.ts';

export function resyncSet(st: TranslatorState, cx: Cx, h: Record<string, string>): ResyncItems | undefined {
  const id = h.ActionID;
  if (id === undefined || !id.startsWith(RESYNC_ACTION_PREFIX)) return undefined;
  let s = st.resync.get(id);
  if (!s) {
    s = { members: new Set(), channels: new Set(), legs: new Set() };
    st.resync.set(id, s);
  }
  return s;
}
