/**
 * The cgmanager D-Bus API (lxc/cgmanager's org.linuxcontainers.cgmanager.xml),
 * as lxkit's service offers it and its client calls it: names and exact
 * signatures, in one place for both sides.
 */
export const CGM_BUS_NAME = 'org.linuxcontainers.cgmanager';
export const CGM_PATH = '/org/linuxcontainers/cgmanager';
export const CGM_INTERFACE = 'org.linuxcontainers.cgmanager0_0';
export const CGM_API_VERSION = 10;

/** Error names the service replies with. */
export const CGM_ERRORS = {
  denied: 'org.linuxcontainers.cgmanager.Error.AccessDenied',
  invalid: 'org.linuxcontainers.cgmanager.Error.InvalidArgs',
  notFound: 'org.linuxcontainers.cgmanager.Error.NoSuchCgroup',
  failed: 'org.linuxcontainers.cgmanager.Error.Failed',
} as const;

/** method → [in signature, out signature]. */
export const CGM_METHODS = {
  Ping: ['i', ''],
  GetPidCgroup: ['si', 's'],
  GetPidCgroupAbs: ['si', 's'],
  Create: ['ss', 'i'],
  Chown: ['ssii', ''],
  Chmod: ['sssi', ''],
  MovePid: ['ssi', ''],
  MovePidAbs: ['ssi', ''],
  GetValue: ['sss', 's'],
  SetValue: ['ssss', ''],
  Remove: ['ssi', 'i'],
  GetTasks: ['ss', 'ai'],
  GetTasksRecursive: ['ss', 'ai'],
  ListChildren: ['ss', 'as'],
  RemoveOnEmpty: ['ss', ''],
  Prune: ['ss', ''],
  ListControllers: ['', 'as'],
  ListKeys: ['ss', 'a(suuu)'],
} as const satisfies Record<string, readonly [string, string]>;

export type CgmMethod = keyof typeof CGM_METHODS;

/** The introspection document the service answers org.freedesktop.DBus.Introspectable.Introspect with. */
export function introspectionXml(): string {
  const arg = (sig: string, dir: 'in' | 'out', names: string[]) => {
    const types: string[] = [];
    for (let i = 0; i < sig.length; ) {
      // Whole types: a(suuu) and ai/as are one argument each.
      let j = i;
      while (sig[j] === 'a') j++;
      if (sig[j] === '(') j = sig.indexOf(')', j);
      types.push(sig.slice(i, j + 1));
      i = j + 1;
    }
    return types.map((t, k) => `      <arg name="${names[k] ?? `arg${k}`}" type="${t}" direction="${dir}"/>`).join('\n');
  };
  const methods = Object.entries(CGM_METHODS)
    .map(([m, [i, o]]) => `    <method name="${m}">\n${[arg(i, 'in', []), arg(o, 'out', ['output'])].filter(Boolean).join('\n')}\n    </method>`)
    .join('\n');
  return `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="${CGM_INTERFACE}">
${methods}
    <property name="api_version" type="i" access="read"/>
  </interface>
</node>
`;
}
