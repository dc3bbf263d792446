#!/usr/bin/env node
// The `mechlab` command: see kernel/cli.ts (built into dist/kernel/cli.js by `npm run build`).
require("../dist/kernel/cli.js").main(process.argv.slice(2));
