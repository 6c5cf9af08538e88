// Types of doublure/testcontainers (testcontainers.js).

import { AbstractStartedContainer, GenericContainer, StartedTestContainer } from 'testcontainers';
import { Doublure, StartOptions } from './index.js';

/** The released image's repository. */
export declare const IMAGE: string;
/** The port the image listens on. */
export declare const PORT: number;
/** DOUBLURE_IMAGE, or the released image at this package's version. */
export declare function defaultImage(): string;
/** The host for DOUBLURE_ALLOWED_HOST (IPv6 in brackets), `*` when none is known. */
export declare function allowedHost(host?: string): string;
/** Settings in camelCase as DOUBLURE_* variables. */
export declare function toEnvironment(settings?: ContainerSettings): Record<string, string>;

/** doublure's settings, as for start(), minus what a container decides itself. */
export type ContainerSettings = Omit<StartOptions, 'fixtures' | 'binary' | 'env' | 'startupTimeout' | 'timeout' | 'listen'>;

export interface GeneratedData {
  /** Users of each API. */
  users?: number;
  logoraUsers?: number;
  wcsUsers?: number;
  formsPerUser?: number;
  seed?: number;
}

export declare class DoublureContainer extends GenericContainer {
  /** `image` defaults to defaultImage(). */
  constructor(image?: string, settings?: ContainerSettings);
  withSettings(settings: ContainerSettings): this;
  /** Copies the fixture directory into the container and serves it instead of the built-in data. */
  withFixtures(directory: string): this;
  withGenerated(data: GeneratedData): this;
  /** The control plane's bearer token; the handles send it. */
  withAdminToken(token: string): this;
  /** Rejects with a StartError naming the image, and how to get it, when it is missing. */
  start(): Promise<StartedDoublureContainer>;
}

export declare class StartedDoublureContainer extends AbstractStartedContainer {
  constructor(started: StartedTestContainer, doublure: Doublure);
  /** The base URL the emulated APIs answer at, from the host. */
  readonly url: string;
  /** The handle on the container's server (its root). */
  connect(): Doublure;
  /** A handle on namespace `name`: token, sign, clock, faults, journal, drop. */
  namespace(name: string): Doublure;
}
