// Deterministic event ids: UUID v5 (RFC 9562, SHA-1) of tenant, PBX, source and the vendor's
// own identity of the event, so a vendor event received twice gets the same id and the
// duplicate is removed downstream. What "the vendor's identity" is, per source, is documented
// in schemas/README.md ("Event ids").
import { hash as digest } from 'node:crypto';

const sha1 = (data: Buffer): Buffer => digest('sha1', data, 'buffer');

/** Namespace for Callboard event ids (a fixed random UUID). */
export const CALLBOARD_NAMESPACE = '6f1c2a0e-3b0d-4c55-9a57-1d1f0b8e2c41';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

const CALLBOARD_NAMESPACE_BYTES = uuidBytes(CALLBOARD_NAMESPACE);

export function uuidv5(name: string, namespace = CALLBOARD_NAMESPACE): string {
  // One-shot SHA-1 of the same bytes: the same ids at about half the cost of a Hash object per
  // event (docs/BENCHMARKS.md, import); ids must never change (re-imports, the live overlap).
  const ns = namespace === CALLBOARD_NAMESPACE ? CALLBOARD_NAMESPACE_BYTES : uuidBytes(namespace);
  const hash = sha1(Buffer.concat([ns, Buffer.from(name, 'utf8')]));
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface EventIdParts {
  tenant_id: string;
  pbx_id: string;
  source: string;
  /** The vendor's identity of the raw event (see README), e.g. AMI `Uniqueid|Event|Timestamp|n`. */
  vendor_key: string;
  /** Canonical type, plus a discriminator when one vendor event yields several canonical ones. */
  type: string;
  part?: string | number;
}

export function eventId(p: EventIdParts): string {
  return uuidv5([p.tenant_id, p.pbx_id, p.source, p.vendor_key, p.type, p.part ?? ''].join('\u001f'));
}

/** UTC ISO-8601 with milliseconds, the only time format in the contract. */
export function isoMs(t: Date | number): string {
  return new Date(t).toISOString();
}
