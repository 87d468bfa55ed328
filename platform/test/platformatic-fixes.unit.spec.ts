// The two mends of @platformatic/kafka 1.35 (platform/src/platformatic-fixes.ts), each on what the
// client really does: a Fetch v17 response as a broker sends it when a partition's leader moved,
// and the connection pool asked for a broker the metadata no longer has.
import { ConnectionPool, MultipleErrors, NetworkError, ProtocolError, Reader, fetchV17 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { coordinatorLost } from '../src/kafka-consumer.ts';
import '../src/platformatic-fixes.ts';

const i16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
// Unsigned varints below 128 are one byte.
const uv = (n: number) => Buffer.from([n]);

/** A Fetch v17 partition: index, error, high watermark, last stable, log start, no aborted list, no preferred replica, no records, then its tagged fields. */
function partition(index: number, error: number, tagged: Buffer[]): Buffer {
  return Buffer.concat([i32(index), i16(error), i64(10n), i64(10n), i64(0n), uv(0), i32(-1), uv(1), uv(tagged.length), ...tagged]);
}

describe('tagged fields (KIP-482) in a response', () => {
  it("reads a Fetch response whose partition carries KIP-951's CurrentLeader, and the partitions after it", () => {
    // CurrentLeader: tag 1, 9 bytes (leader id 0, leader epoch 7, no tagged fields of its own).
    const currentLeader = Buffer.concat([uv(1), uv(9), i32(0), i32(7), uv(0)]);
    const body = Buffer.concat([
      i32(0), // throttle
      i16(0), // error
      i32(0), // session id
      uv(2), // one topic
      Buffer.alloc(16, 1), // topic id
      uv(3), // two partitions
      partition(0, 6, [currentLeader]), // NOT_LEADER_OR_FOLLOWER, as a broker sends it when the leader moved
      partition(1, 0, []),
      uv(0), // topic's tagged fields
      uv(0), // response's tagged fields
    ]);
    // The client reports partition errors as a ResponseError carrying the parsed response.
    let parsed: { responses: { partitions: { partitionIndex: number; errorCode: number }[] }[] } | undefined;
    try {
      parsed = fetchV17.parseResponse(0, 1, 17, Reader.from(body)) as typeof parsed;
    } catch (e) {
      parsed = (e as { response?: typeof parsed }).response;
    }
    expect(parsed?.responses[0]?.partitions.map((p) => [p.partitionIndex, p.errorCode])).toEqual([
      [0, 6],
      [1, 0],
    ]);
  });

  it('skips several fields by their sizes and leaves the reader after them', () => {
    const r = Reader.from(Buffer.concat([uv(2), uv(1), uv(3), Buffer.from('abc'), uv(5), uv(0), i32(424242)]));
    r.readTaggedFields();
    expect(r.readInt32()).toBe(424242);
  });
});

describe('a broker gone from the metadata', () => {
  it('is a retriable network error to the caller, not a TypeError thrown in a socket callback', async () => {
    const pool = new ConnectionPool('test');
    const viaCallback = await new Promise<Error | null>((resolve) => pool.get(undefined as never, (e) => resolve(e)));
    expect(viaCallback).toBeInstanceOf(NetworkError);
    expect(viaCallback).toMatchObject({ canRetry: true, brokerGone: true });
    await expect(pool.get(undefined as never)).rejects.toBeInstanceOf(NetworkError);
    expect(coordinatorLost(viaCallback)).toBe(true);
  });
});

describe('coordinatorLost', () => {
  it('takes the errors only a new coordinator lookup gets past, also inside the client aggregates', () => {
    expect(coordinatorLost(new ProtocolError('NOT_COORDINATOR'))).toBe(true);
    expect(coordinatorLost(new MultipleErrors('commit failed', [new ProtocolError('COORDINATOR_NOT_AVAILABLE')]))).toBe(true);
    expect(coordinatorLost(new MultipleErrors('commit failed', [new NetworkError('ECONNREFUSED')]))).toBe(true);
    expect(coordinatorLost(new ProtocolError('REBALANCE_IN_PROGRESS'))).toBe(false);
    expect(coordinatorLost(new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION'))).toBe(false);
    expect(coordinatorLost(new Error('ClickHouse refused'))).toBe(false);
  });
});
