export * from './events.ts';
export * from './ids.ts';
export * from './records.ts';
export * from './raw-codec.ts';
export * from './validate.ts';
export * from './upcast.ts';
export * from './build.ts';
