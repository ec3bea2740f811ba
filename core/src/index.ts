/**
 * @lxkit/core — the library API.
 *
 * Plugins import everything they need from here; nothing below this module
 * is a public path.
 */
export { VERSION } from './version.js';
export { native as nativeAddon, helperPath as nativeHelperPath } from './native-package.js';
/** execa (ESM-only), loaded when first needed; plugins use it so that their bundles need no import() (see esm-imports.ts). */
export { importExeca } from './esm-imports.js';
export { ERROR_CODES, LxkitError, isLxkitError, messageOf, type ErrorCode, type ErrorDetails } from './errors.js';

// Runtime, hook bus, plugins
export { Runtime, createRuntime, type RuntimeOptions } from './runtime.js';
export { HOOK_NAMES, type HookName, type Hooks } from './hooks/bus.js';
export * from './hooks/stages.js';
export type {
  AttachConfinement,
  CloneContext,
  ContainerRef,
  CreateContext,
  InitSpec,
  DestroyContext,
  LifecycleContext,
  StartContext,
  StopContext,
} from './hooks/contexts.js';
export type { CgroupDriver, CgroupHandoff, CgroupPlacement, CheckpointDump, Checkpointer, CheckpointFeature, CheckpointRestore, NetworkType, OpenedPty, RestorePty, StorageBackend, Template, TemplateRequest } from './hooks/drivers.js';
export type {
  OpenedRootfs,
  RootfsMount,
  StorageCloneRequest,
  StorageCreateRequest,
  StorageOptions,
  StorageOrigin,
  StorageTarget,
} from './storage/backend.js';
export { isAtOrAbove, isDirectory, removeStorageDirectory } from './storage/directories.js';
export { copyOfForeign, copyRootfs, copyStorage, type StorageSide } from './storage/copy.js';
export { cloneStorageName } from './storage/naming.js';
export { filesystemType, mountOnHost, storageTool, type HostMount } from './storage/host-mount.js';
export { runTool, type ToolOptions } from './host/tool.js';
export { rootfsSpec, storageOf, type ResolvedStorage } from './storage/select.js';
export { PLUGIN_BRAND, definePlugin, isPlugin, type Plugin, type PluginDefinition } from './plugin/define.js';
export { BUILTIN_PLUGINS, installedBuiltins } from './plugin/builtins.js';
export { notEnforcedYet } from './plugin/not-enforced.js';
export { notReplayable } from './launch-plan/active.js';
export { runNetScript, type HostHookContext } from './builtins/hook-scripts.js';
export type { LoadedPlugin, PluginSpec } from './plugin/loader.js';

// Container configuration
export { ConfigDocument, formatEntry, formatValue, parseLine, type ConfigLine, type LineKind } from './config/document.js';
export { ContainerConfig, type ContainerModel } from './config/container-config.js';
export { ConfigCheck, formatProblem, type ConfigEntry, type ConfigProblem, type Severity } from './config/entries.js';
export { defineKeys, readKeys, tapConfigKeys, type KeyHandler, type KeyTable } from './config/keys.js';
export * from './config/values.js';
export {
  HOOK_TYPES,
  NAMESPACE_NAMES,
  createCoreModel,
  type CgroupMountMode,
  type CoreModel,
  type HookType,
  type IdMap,
  type Limit,
  type MountAuto,
  type MountEntry,
  type NamespaceName,
  type Prlimit,
  type TimeOffset,
} from './config/core-keys/model.js';
export { parseMountEntry } from './config/core-keys/mount.js';
export { mountEntry } from './builtins/mounts.js';
export { hostIdOf, parseIdMap } from './config/core-keys/idmap.js';
export { parsePrlimit, PRLIMIT_RESOURCES } from './config/core-keys/process.js';
export { parseTimeOffset } from './config/core-keys/lifecycle.js';
export { ARCH_NAMES, archPersonality } from './config/arch.js';
export { LegacyTranslator, isLegacyKey, type Translation } from './config/legacy.js';
export {
  loadContainerConfig,
  validateContainerConfig,
  type ConfigSource,
  type ValidatedConfig,
} from './config/load.js';
export { convertDocument, updateConfigFile, type ConfigChange, type ConversionResult, type UpdateResult } from './config/update.js';

// Toolkit configuration and logging
export { SYSTEM_CONFIG_ITEMS, type SystemConfigItem } from './toolkit/items.js';
export { loadToolkitConfig, systemConfigItem, type ToolkitConfig, type ToolkitConfigOptions } from './toolkit/config.js';
export { SEARCH_PLACES, cacheDir, defaultLxcpath, findToolkitConfigFile, searchDirs, systemConfigDir, userConfigDir } from './toolkit/locate.js';
export { adoptContainerLog, createLogger, levelRank, silentLogger, type ClosableLogger, type ContainerLogSettings, type LogSinkOptions, type Logger } from './log/logger.js';

// Host facts and lxkit checkconfig
export { checkconfig, runProbes, type CheckconfigOptions, type CheckconfigReport } from './checkconfig/index.js';
export { CHECKS, type CheckResult, type CheckStatus, type ProbeResult } from './checkconfig/checks.js';
export { parseKernelConfig, readKernelConfig, type KernelConfig, type KernelConfigSource } from './host/kernel-config.js';
export {
  parseMountInfo,
  readCgroupLayout,
  type CgroupHierarchy,
  type CgroupLayout,
  type CgroupLayoutKind,
  type MountInfoEntry,
} from './host/cgroup-layout.js';

// Containers
export {
  Container,
  listContainers,
  type ContainerOptions,
  type ContainerState,
  type CreateOptions,
  type DestroyOptions,
  type ExecuteOptions,
  type StartOptions,
} from './container/container.js';
export { containerInfos, nestedContainerInfos, type ContainerInfo, type NestedContainerInfo } from './container/list.js';
export { checkpointFeatures, type CheckpointOptions, type RestoreOptions } from './checkpoint/checkpoint.js';
export { autostartPlan, type AutostartAction, type AutostartEntry, type AutostartOptions } from './container/autostart.js';
export { checkName } from './container/name.js';
export { parseDeviceRule, type DeviceRule } from './cgroup/device-rules.js';
export { deviceAllowed, devicePolicy, deviceProgram, type DevicePolicy } from './cgroup/device-program.js';
export { attachDeviceSettings, recordedDeviceSettings, type DeviceSetting } from './cgroup/device-state.js';
export { ephemeralCopy, ephemeralName, type EphemeralMount, type EphemeralOptions } from './container/ephemeral.js';
export { CommandClient, askMonitor, type ContainerStatus } from './command/client.js';
export { RunningContainer, runningContainer, type StopOptions } from './container/running.js';
export { ATTACH_NAMESPACES, type AttachNamespace, type AttachOptions, type AttachPrivilege } from './attach/attach.js';
export type { ConsoleLogOptions, ConsoleOptions } from './console/console.js';
export { containerPaths, runDir, watchDir, watchPrefix, type ContainerPaths } from './container/paths.js';
export { registerWatcher, watchStates, type InitExit, type StateChange } from './command/watch.js';
export { isRepeatableKey } from './container/repeatable.js';
export { OpQueue, OP, PF, EXEC_MODE, PTY_KIND, type Op, type OpInfo, type MountOp, type ExecOp, type PathOptions } from './start/ops.js';
export { MS, parseMountOptions, type ParsedMountOptions } from './start/mount-options.js';
export { splitCommand, splitQuotedCommand, splitSpacedCommand } from './start/words.js';
export type { Exit } from './start/monitor.js';
export { execInUserNamespace, overwriteInUserNamespace, runInUserNamespace, withCallerIds, type UsernsExec, type UsernsRun } from './start/userns-run.js';
export { runUnshared, type UnshareRequest } from './unshare/run.js';
export { parseNamespaceList } from './unshare/namespaces.js';
export { lookupUser, type HostUser } from './unshare/user.js';
export { activeContainerStats } from './top/gather.js';
export { CSV_HEADER, SORT_KEYS, csvLine, humanSize, isSortKey, screen, sortRows, totalOf, type SortKey, type TopRow } from './top/render.js';
export { USER_HZ, topStats, type TopStats } from './top/stats.js';
export { lockedContainers } from './container/active.js';
export { addDevice, removeDevice, type DeviceRequest } from './device/device.js';
export { callerSubids, parseSubids, type SubidEntry } from './host/subid.js';
export { type RunResult } from './start/run.js';
export { cloneFirstReason, stopWorkReason } from './start/plugin-answers.js';
export type { LxkitSystemError } from './start/system-error.js';

// The plugin loader hands this core to the built-in plugins it loads (see provideCore).
import * as self from './index.js';
import { provideCore } from './plugin/loader.js';
provideCore(self);
