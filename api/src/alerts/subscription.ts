// The `alerts` subscription: the alerts raised now, at once, then every raise and clear, of the
// caller's tenant only (the feed is keyed by the token's tenant). A display token sees the
// alerts of its one board, as it sees only that board.
import { ApiError } from '../errors.ts';
import { bounded } from '../pubsub.ts';
import type { Auth } from '../tokens.ts';
import type { Alert } from './evaluate.ts';
import type { AlertFeed } from './engine.ts';
import { alertBody } from './webhook.ts';

export function subscribeAlerts(feed: AlertFeed | undefined, auth: Auth, boardId: string | null, buffer: number, onDrop: () => void): AsyncGenerator<{ alerts: ReturnType<typeof alertBody> }> {
  if (!feed) throw new ApiError('UNAVAILABLE', 'alerts are not evaluated by this API instance');
  if (auth.role === 'display' && boardId !== null && boardId !== auth.board_id) {
    throw new ApiError('FORBIDDEN', `this display token reads the alerts of board ${auth.board_id} only, not ${JSON.stringify(boardId)}`);
  }
  const board = auth.role === 'display' ? auth.board_id : boardId;
  const wanted = (a: Alert) => board === null || a.rule.board_id === board;
  const out = (a: Alert) => ({ alerts: alertBody(auth.tenant_id, a) });
  return bounded(
    (push) => {
      for (const a of feed.active(auth.tenant_id)) if (wanted(a)) push(out(a));
      return feed.subscribe(auth.tenant_id, (a) => wanted(a) && push(out(a)));
    },
    buffer,
    onDrop,
  );
}
