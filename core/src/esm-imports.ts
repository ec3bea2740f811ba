/**
 * The core's import() of ESM-only packages and of user plugins, kept in a
 * bundle part of their own (esm.cjs; see scripts/build.mjs). The CLI's V8
 * code cache (core/bin/lxkit.cjs) leaves files containing import()
 * alone, because on Node 20 code run from a cache cannot import(); with the
 * calls here, the big parts of the core are cached all the same.
 */
/** execa: from its CommonJS bundle (core/dist/execa.cjs; see ./execa.ts), promised as its import() was. */
export const importExeca = async (): Promise<typeof import('execa')> => require('./execa.cjs') as typeof import('execa');
export const importMetaResolve = () => import('import-meta-resolve');
/** A module by file URL (a user's plugin, a JavaScript toolkit config) or package name. */
export const importUrl = (url: string): Promise<unknown> => import(url);
