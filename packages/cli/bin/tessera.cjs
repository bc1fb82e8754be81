#!/usr/bin/env node
// The `tessera` command: a committed launcher (npm links it before the build has run).
// CommonJS on purpose: it runs before the ES module loader touches libuv's threadpool, so the pool size can
// still be chosen. Token signing runs on that pool; one thread per core measured 10–12% more issue-token
// throughput than libuv's default of 4 on a 2-core machine (bench/README.md).
'use strict';
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(2, require('node:os').availableParallelism()));
}
import('../dist/bin.js');
