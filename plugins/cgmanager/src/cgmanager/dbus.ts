/**
 * dbus-next, loaded when the cgmanager service or driver is used (a start
 * through the cgroupfs driver never loads it).
 */
import type * as DbusNext from 'dbus-next';

export type Dbus = typeof DbusNext;
export type DbusMessage = DbusNext.Message;

let loaded: Promise<Dbus> | undefined;

export function loadDbus(): Promise<Dbus> {
  loaded ??= import('dbus-next').then((m) => ((m as { default?: Dbus }).default ?? m) as Dbus);
  return loaded;
}
