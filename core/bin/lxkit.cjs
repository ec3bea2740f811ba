#!/usr/bin/env node
// CommonJS on purpose: `lxkit help` then never starts Node's ESM loader.
'use strict';
const { realpathSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
// lxkit's packages sit side by side (core, native, plugins): the workspace, or node_modules/@lxkit.
const invoked = basename(process.argv[1] ?? '');
const command = invoked.startsWith('lxc-') ? invoked : process.argv[2];
require('./compile-cache.cjs').install(dirname(realpathSync(join(__dirname, '..'))), command);
require('../dist/cli.cjs');
