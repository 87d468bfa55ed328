// The API's settings are a section of the one typed config (`cfg.api`, platform/src/config.ts).
// This re-export only keeps resolvers.ts's import line working until it imports from platform.
export type { ApiSettings } from '@callboard/platform';
