#!/usr/bin/env node
// The one entry point. Sources are TypeScript run through tsx, so there is no build step
// for the services (the wallboard is the only thing Vite builds).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
