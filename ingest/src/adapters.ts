// The adapter registry: one entry per PBX kind. `main.ts` starts `start` for every configured
// PBX of that kind; `callboard translate` and `retranslate` use `translateFile` and `translator`.
// Entries load lazily so that one vendor's code is only imported when a PBX of that kind exists.
// To add a vendor: add an entry here, nothing else in main.ts or cli.ts needs to change.
// The interfaces an entry implements live in pipeline.ts: vendors import those, and only this
// registry imports the vendors.
import type { PbxKind } from '@callboard/platform';
import type { OfflineOptions, RawTranslator, StartAdapter, TranslateOutcome } from './pipeline.ts';

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
