/**
 * Where the native helpers are. The helpers are plain executables (no Node
 * inside): lxkit runs them for work a multi-threaded Node process cannot do
 * itself, such as entering new namespaces.
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Helper executables built from native/src by `npm run setup`. */
export const HELPERS = ['lxkit-probe'] as const;
export type HelperName = (typeof HELPERS)[number];

const BUILD_DIR = fileURLToPath(new URL('../build/Release/', import.meta.url));

/** Absolute path of a helper; throws with a hint when it has not been built. */
export function helperPath(name: HelperName): string {
  const path = BUILD_DIR + name;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw Object.assign(new Error(`native helper ${name} is not built (${path}); run "npm run setup"`), {
      code: 'LXKIT_NATIVE_MISSING',
      path,
    });
  }
  return path;
}
