// Event ids must never change between versions: a re-import and the overlap of imported and live
// events rely on it. Pinned here with ids computed by the earlier implementation (a Hash object per
// id, before the one-shot SHA-1), in Callboard's own namespace and with non-ASCII in the key.
import { describe, expect, it } from 'vitest';
import { eventId, uuidv5 } from '../src/ids.ts';

describe('event ids are stable across versions', () => {
  it('gives the ids the earlier implementation gave', () => {
    expect(
      eventId({ tenant_id: 'acme', pbx_id: 'pbx1', source: 'ami', vendor_key: 'queue_log|1767600000|1767600000.1|q1|NONE|ENTERQUEUE||0711 ü', type: 'call.queued' }),
    ).toBe('81a1c7d4-b502-52a0-a744-ce5b92e77c95');
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});
