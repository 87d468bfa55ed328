// Two faults of @platformatic/kafka 1.35 (the newest 1.x; 2.x needs Node ≥ 22.22), mended here
// at load because the services cannot wait for a release. Both showed up when a broker of the
// 3-node cluster was stopped under the scale-out test; each has a unit test that fails without
// its mend (platform/test/platformatic-fixes.unit.spec.ts). Drop a mend once the client has it.
import { ConnectionPool, NetworkError, Reader } from '@platformatic/kafka';

/**
 * Tagged fields as KIP-482 defines them: a count, then per field its tag, its size and its data.
 * The client reads the count as a byte length and skips that many bytes, so a response carrying
 * a tagged field is misread from there on. A broker sends one in a Fetch response when a
 * partition's leader moved (KIP-951's CurrentLeader, with NOT_LEADER_OR_FOLLOWER): the fetch
 * then failed with OutOfBoundsError on every retry while the leader was elsewhere.
 */
Reader.prototype.readTaggedFields = function readTaggedFields(this: Reader): void {
  const fields = this.readUnsignedVarInt();
  for (let i = 0; i < fields; i++) {
    this.readUnsignedVarInt(); // tag: none of them is used
    this.skip(this.readUnsignedVarInt());
  }
};

/**
 * A broker that is no longer in the cluster's metadata (the group coordinator the consumer
 * remembered, after its broker stopped) is a retriable network error. The client looked it up
 * as `undefined` and threw a TypeError from inside a socket callback, which ended the process.
 * `runBatches` answers this error with a client that looks the coordinator up again.
 */
const get = ConnectionPool.prototype.get;
ConnectionPool.prototype.get = function getKnownBroker(this: ConnectionPool, broker: unknown, callback?: unknown): unknown {
  if (broker === undefined || broker === null) {
    const e = new NetworkError('the broker is no longer in the cluster metadata (a coordinator that moved?)', { brokerGone: true });
    if (typeof callback === 'function') {
      (callback as (e: Error) => void)(e);
      return undefined;
    }
    return Promise.reject(e);
  }
  return (get as (...a: unknown[]) => unknown).call(this, broker, callback);
} as typeof ConnectionPool.prototype.get;
