// A subscription sees only what is published after it is live, and neither an SSE response nor
// graphql-ws says when that is. Waiting a fixed time for it flakes on a busy machine; instead a
// probe the subscription would see is published, again every half second, until it arrives.
import { eventually } from '../../test/helpers.ts';

export async function untilLive(publishProbe: () => Promise<void>, arrived: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  let sentAt = 0;
  await eventually(
    async () => {
      if (arrived()) return true;
      if (Date.now() - sentAt >= 500) {
        sentAt = Date.now();
        await publishProbe();
      }
      return undefined;
    },
    timeoutMs,
    what,
  );
}
