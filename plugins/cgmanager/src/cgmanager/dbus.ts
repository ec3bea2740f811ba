/**
 * dbus-next, loaded when the cgmanager service or driver is used (a start
 * through the cgroupfs driver never loads it). A CommonJS package: require()d,
 * so that the plugin's bundle has no import() and the CLI's code cache takes it.
 */
import { createRequire } from 'node:module';
import type * as DbusNext from 'dbus-next';

export type Dbus = typeof DbusNext;
export type DbusMessage = DbusNext.Message;

let loaded: Promise<Dbus> | undefined;

export function loadDbus(): Promise<Dbus> {
  loaded ??= Promise.resolve().then(() => createRequire(import.meta.url)('dbus-next') as Dbus);
  return loaded;
}
