// The one mapping from an error to an exit code and the line a person reads (platform/src/errors.ts).
import { MultipleErrors, NetworkError, ProtocolError, UserError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { classify, ConfigError, portInUse, ServiceUnavailable, UsageError, unknownTenant } from '../../platform/src/index.ts';

const errno = (code: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });

describe('classify', () => {
  it('gives each kind of failure its exit code; only a bug is internal', () => {
    expect(classify(new UsageError('--date is required'))).toEqual({ exit: 2, message: '--date is required', usage: true, internal: false });
    expect(classify(new ConfigError('PORT', 'x', 'a port'))).toMatchObject({ exit: 78, usage: false, internal: false });
    expect(classify(new ServiceUnavailable('no broker'))).toMatchObject({ exit: 69, internal: false });
    expect(classify(errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8123'))).toMatchObject({
      exit: 69,
      message: 'service unavailable: connect ECONNREFUSED 127.0.0.1:8123',
    });
    expect(classify(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' }))).toMatchObject({ exit: 69 });
    // @platformatic/kafka (the services' client) giving up on every broker, as it nests it.
    const refused = new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9092') });
    const attempts = new MultipleErrors('metadata failed 2 times.', [new MultipleErrors('Cannot connect to any broker.', [refused]), new MultipleErrors('Cannot connect to any broker.', [refused])]);
    expect(classify(attempts)).toEqual({ exit: 69, message: 'Kafka unavailable: metadata failed 2 times: connect ECONNREFUSED 127.0.0.1:9092', usage: false, internal: false });
    // Each broker tried is named once, however many attempts there were.
    const at = (port: number) => new NetworkError(`Connection to 127.0.0.1:${port} failed.`, { cause: errno('ECONNREFUSED', `connect ECONNREFUSED 127.0.0.1:${port}`, { address: '127.0.0.1', port }) });
    const cluster = new MultipleErrors('metadata failed 3 times.', [1, 2, 3].map(() => new MultipleErrors('Cannot connect to any broker.', [at(9092), at(9094)])));
    expect(classify(cluster).message).toBe('Kafka unavailable: metadata failed 3 times: ECONNREFUSED 127.0.0.1:9092; ECONNREFUSED 127.0.0.1:9094');
    // Not every aggregate of the client is a broker away: a mistake of ours stays a bug.
    expect(classify(new MultipleErrors('send failed', [new UserError('/messages/0/topic must be string')]))).toMatchObject({ exit: 70, internal: true });
    expect(classify(new Error('Code: 76. DB::Exception: Cannot lock file /data/clickhouse/status. Another server instance'))).toMatchObject({
      exit: 69,
      internal: false,
    });
    const held = Object.assign(new Error("Failed to create connection for path '/srv/data/clickhouse'"), { name: 'ChdbConnectionError' });
    expect(classify(held)).toMatchObject({
      exit: 69,
      message: expect.stringMatching(/^the embedded ClickHouse in \/srv\/data\/clickhouse is in use by another process/),
    });
    expect(classify(errno('EADDRINUSE', 'listen EADDRINUSE', { address: '0.0.0.0', port: 9464 }))).toMatchObject({
      exit: 78,
      message: 'address in use: 0.0.0.0:9464 (choose another port)',
    });
    expect(classify(new Error('wrapped', { cause: errno('ECONNREFUSED', 'refused') }))).toMatchObject({
      exit: 69,
      message: 'wrapped: service unavailable: refused',
    });
    expect(classify(new TypeError('x is not a function'))).toMatchObject({ exit: 70, internal: true });
  });

  it('reads the broker\'s answer: 77 when this client is not permitted, 65 when the records themselves are refused, before "unavailable"', () => {
    // As the client nests a produce refused by the broker, and as a command gives up on it.
    const refused = (code: string) => new MultipleErrors('Producing messages failed.', [new ProtocolError(code, null, { path: '/topics/0/partitions/0' })]);
    const givenUp = (code: string) => new ServiceUnavailable(`writing to cc.events.v1: ${code}`, { cause: refused(code) });
    for (const code of ['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'SASL_AUTHENTICATION_FAILED']) {
      expect(classify(refused(code)), code).toMatchObject({ exit: 77, internal: false });
      expect(classify(givenUp(code)), code).toMatchObject({ exit: 77, message: `writing to cc.events.v1: ${code}`, internal: false });
    }
    for (const code of ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']) {
      expect(classify(givenUp(code)), code).toMatchObject({ exit: 65, internal: false });
    }
    // A transient answer wrapped the same way stays "unavailable".
    expect(classify(givenUp('NOT_LEADER_OR_FOLLOWER'))).toMatchObject({ exit: 69 });
  });

  it('names the setting or flag whose port is taken', () => {
    const inUse = errno('EADDRINUSE', 'listen EADDRINUSE', { address: '0.0.0.0', port: 9465 });
    const byVar = portInUse(inUse, { PROJECTIONS_OPS_PORT: 9465 });
    expect(byVar).toBeInstanceOf(ConfigError);
    expect((byVar as ConfigError).message).toBe(
      'invalid configuration: PROJECTIONS_OPS_PORT=9465: expected a free port (0.0.0.0:9465 is in use by another process)',
    );
    expect((portInUse(inUse, { '--ops-port': 9465 }) as Error).message).toBe('--ops-port 9465: 0.0.0.0:9465 is in use by another process');
    expect(portInUse(inUse, { PORT: 4000 })).toBe(inUse);
    const other = new Error('other');
    expect(portInUse(other, { PORT: 4000 })).toBe(other);
  });

  it('says which tenants there are when --tenant names none of them', () => {
    expect(unknownTenant('nobody', ['acme', 'globex'], 'configured tenants').message).toBe(
      '--tenant nobody: unknown tenant (configured tenants: acme, globex)',
    );
    expect(unknownTenant('acmee', ['acme', 'globex'], 'configured tenants').message).toBe('--tenant acmee: unknown tenant, did you mean acme?');
  });
});
