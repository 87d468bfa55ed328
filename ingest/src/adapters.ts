// The adapter registry: one entry per PBX kind. `main.ts` starts `start` for every configured
// PBX of that kind; `callboard translate` and `retranslate` use `translateFile` and `translator`.
// Entries load lazily so that one vendor's code is only imported when a PBX of that kind exists.
// To add a vendor: add an entry here, nothing else in main.ts or cli.ts needs to change.
import type { CallboardConfig, Health, Logger, PbxConfig, PbxKind } from '@callboard/platform';
import type { CanonicalEvent, RawRecord, RawRef } from '@callboard/schemas';
import type { IngestSink, TranslateOutcome } from './sink.ts';

export interface AdapterDeps {
  cfg: CallboardConfig;
  pbx: PbxConfig;
  sink: IngestSink;
  health: Health;
  log: Logger;
}

/** A started adapter: it connects, reconnects and writes through the sink until stopped. */
export interface RunningAdapter {
  /** Stops reconnecting, flushes what it holds to the sink and closes the connection. */
  stop(): Promise<void>;
}

export type StartAdapter = (deps: AdapterDeps) => Promise<RunningAdapter>;

/** Options of an offline translation (`callboard translate`, `retranslate`). */
export interface OfflineOptions {
  cfg: Pick<CallboardConfig, 'queues'>;
  tenant_id: string;
  pbx_id: string;
  /** Time base for captures that carry no time of their own (AMI without timestampevents). */
  start?: Date;
  /** IANA zone of the PBX's local timestamps (Yeastar); default: the configured PBX's zone. */
  timezone?: string;
  /** Problems for a person (stderr in the CLI). */
  warn: (message: string) => void;
}

/** Deterministic translator of raw records of one PBX, fed in stream order (retranslate). */
export interface RawTranslator {
  translate(record: RawRecord, ref: RawRef | null): TranslateOutcome[];
  /** End of input: events still due (e.g. wrap-up ends). */
  flush(): CanonicalEvent[];
}

export interface AdapterEntry {
  start: () => Promise<StartAdapter>;
  /** Translates a vendor capture file (the verbatim stream) into outcomes, in order. */
  translateFile: () => Promise<(path: string, opts: OfflineOptions) => AsyncIterable<TranslateOutcome>>;
  /** Translator of the raw records this kind writes to pbx.raw.v1. */
  translator: () => Promise<(opts: OfflineOptions) => RawTranslator>;
}

export const ADAPTERS: Partial<Record<PbxKind, AdapterEntry>> = {
  ami: {
    start: async () => (await import('./ami/adapter.ts')).startAmiAdapter,
    translateFile: async () => (await import('./ami/offline.ts')).translateAmiFile,
    translator: async () => (await import('./ami/offline.ts')).amiRawTranslator,
  },
  'yeastar-p': {
    start: async () => (await import('./yeastar/adapter.ts')).startYeastarPAdapter,
    translateFile: async () => (await import('./yeastar/offline.ts')).yeastarFileTranslator('yeastar-p'),
    translator: async () => (await import('./yeastar/offline.ts')).yeastarRawTranslator('yeastar-p'),
  },
  'yeastar-s': {
    start: async () => (await import('./yeastar/adapter.ts')).startYeastarSAdapter,
    translateFile: async () => (await import('./yeastar/offline.ts')).yeastarFileTranslator('yeastar-s'),
    translator: async () => (await import('./yeastar/offline.ts')).yeastarRawTranslator('yeastar-s'),
  },
};

/** Which registry entry handles raw records of a given `source`. */
export const SOURCE_KIND: Record<string, PbxKind> = { ami: 'ami', 'yeastar-p': 'yeastar-p', 'yeastar-s': 'yeastar-s' };
