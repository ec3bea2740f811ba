/**
 * What each lifecycle hook's taps receive. Contexts grow as features land
 * (the child's op queue, the init pid...); fields are only ever added.
 */
import type { ContainerConfig } from '../config/container-config.js';
import type { Logger } from '../log/logger.js';
import type { LxkitError } from '../errors.js';

/** The container a hook is about. */
export interface ContainerRef {
  readonly name: string;
  readonly lxcpath: string;
  readonly config: ContainerConfig;
}

export interface LifecycleContext {
  readonly container: ContainerRef;
  readonly log: Logger;
}

/** pre-start … start: the container is being started. */
export interface StartContext extends LifecycleContext {
  /** The container's init as seen from the host, once cloned (start-host and later). */
  pid?: number;
}

/** stop and post-stop. */
export interface StopContext extends LifecycleContext {
  /** LXC_TARGET: whether the container will be started again. */
  readonly target: 'stop' | 'reboot';
  /**
   * post-stop runs every tap even when some fail (it undoes pre-start); the
   * failures are collected here and raised together afterwards.
   */
  readonly errors: LxkitError[];
}

export interface CreateContext extends LifecycleContext {
  /** Template name (`-t`), when one is used. */
  readonly template?: string;
  readonly templateArgs: readonly string[];
}

export interface CloneContext extends LifecycleContext {
  /** The container being cloned from. */
  readonly source: ContainerRef;
  /** Extra arguments from `lxkit copy -- …`, passed on to clone hooks. */
  readonly hookArgs: readonly string[];
}

export type DestroyContext = LifecycleContext;
