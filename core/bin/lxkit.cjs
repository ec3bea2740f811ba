#!/usr/bin/env node
// CommonJS on purpose: `lxkit help` then never starts Node's ESM loader.
require('../dist/cli.cjs');
