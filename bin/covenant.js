#!/usr/bin/env node
// The `covenant` CLI: TypeScript sources run through ts-node (type-checked by `npm run lint`, not here).
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
require("../cli/index.ts")
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
