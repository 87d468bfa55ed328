// npm run gen:schemas — rewrites schemas/json/ from the TypeScript definitions.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemaFiles } from '@callboard/schemas/json-schema';

const dir = join(import.meta.dirname, '..', 'schemas', 'json');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) rmSync(join(dir, f));
const files = jsonSchemaFiles();
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
console.log(`wrote ${Object.keys(files).length} schema files to ${dir}`);
