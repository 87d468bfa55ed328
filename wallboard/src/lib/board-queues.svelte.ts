// The queues of the board on screen (configured names and colours), shared with the parts App
// mounts beside the board: the alert banner names and colours an alert's queue as the board does.
import type { BoardQueue } from './model.ts';

export const shownBoard = $state<{ queues: readonly BoardQueue[] }>({ queues: [] });
