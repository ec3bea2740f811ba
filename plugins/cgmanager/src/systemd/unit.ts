/**
 * systemd unit names for containers' scopes: `lxc-NAME.scope`, with -1, -2…
 * when a unit of that name exists, and NAME escaped as systemd-escape does
 * (a unit name allows only ASCII letters, digits and `:_.\-`).
 */

/** systemd's escaping of one unit-name component: other bytes (and a leading dot) as \xNN, `/` as `-`. */
export function escapeUnitName(text: string): string {
  let out = '';
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const c = String.fromCharCode(bytes[i]!);
    if (c === '/') out += '-';
    else if (/[A-Za-z0-9:_]/.test(c) || (c === '.' && i > 0)) out += c;
    else out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The scope of container `name` at attempt N (no suffix for the first). */
export const scopeUnit = (name: string, attempt: number): string => `lxc-${escapeUnitName(name)}${attempt === 0 ? '' : `-${attempt}`}.scope`;
