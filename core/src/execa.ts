/**
 * execa, bundled into CommonJS as a part of its own (core/dist/execa.cjs,
 * built by scripts/build.mjs) and reached through importExeca().
 *
 * execa is ESM only: importing it starts Node's ESM loader, which resolves,
 * links and compiles its ~80 modules one by one: ~100 ms of every command
 * that runs a tool (a quarter of `lxkit create`), 2–3 s under the test VM's
 * emulation. One CommonJS file loads in a few milliseconds and goes into
 * the CLI's V8 code cache (core/bin/lxkit.cjs) like the core's other parts.
 */
export * from 'execa';
