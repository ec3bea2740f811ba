/** Small helpers shared by the core's key handlers. */

/** Parses a value, or gives undefined for the empty value that resets a key. */
export function optional<T>(value: string, parse: (v: string) => T): T | undefined {
  return value === '' ? undefined : parse(value);
}

/** Assigns, or deletes for undefined (exactOptionalPropertyTypes keeps "unset" and "undefined" apart). */
export function set<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}
