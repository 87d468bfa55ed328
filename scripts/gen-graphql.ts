// npm run gen:graphql — rewrites wallboard/src/lib/gql-types.ts (see gen-graphql-types.ts).
import { writeFileSync } from 'node:fs';
import { GQL_TYPES_PATH, graphqlTypesFile } from './gen-graphql-types.ts';

writeFileSync(GQL_TYPES_PATH, await graphqlTypesFile());
console.log(`wrote ${GQL_TYPES_PATH}`);
