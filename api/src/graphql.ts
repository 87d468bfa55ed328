// graphql-js, loaded the way Node loads it. The package has no "exports" map, so Node (and with
// it graphql-yoga, envelop and graphql-ws) resolves `graphql` to its CommonJS build, while
// bundler-style resolvers (vitest's) pick index.mjs: a second copy whose classes fail graphql's
// instanceof checks ("Cannot use GraphQLSchema from another module or realm"). Everything in
// api/ takes graphql from here so there is one copy whatever runs the code.
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';

export const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQL;
