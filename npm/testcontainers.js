// doublure's image as a Testcontainers module: `import { DoublureContainer }
// from 'doublure/testcontainers'` (testcontainers 10, an optional peer
// dependency). The image is ghcr.io/doublure/doublure at this package's
// version, never `latest`; the first argument or DOUBLURE_IMAGE names
// another. Settings reach the server as the binary's own DOUBLURE_*
// variables. The container is ready when /__doublure/health answers from
// the host (the image has no shell or curl to run a check inside).

import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  AbstractStartedContainer,
  GenericContainer,
  ImageName,
  Wait,
  getContainerRuntimeClient,
} from 'testcontainers';
import { StartError, connect } from './index.js';

export const IMAGE = 'ghcr.io/doublure/doublure';
export const PORT = 8080;
const FIXTURES = '/fixtures';
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** DOUBLURE_IMAGE, or the released image at this package's version. */
export function defaultImage() {
  return process.env.DOUBLURE_IMAGE || `${IMAGE}:${version}`;
}

/** `generateLogoraUsers: 1000` becomes `DOUBLURE_GENERATE_LOGORA_USERS=1000`. */
export function toEnvironment(settings) {
  const environment = {};
  for (const [key, value] of Object.entries(settings ?? {})) {
    if (value === undefined || value === null) continue;
    if (!/^[a-z][A-Za-z0-9]*$/.test(key)) {
      throw new TypeError(`setting ${JSON.stringify(key)} is not a doublure flag in camelCase (see doublure --help)`);
    }
    const name = 'DOUBLURE_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
    environment[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return environment;
}

/**
 * The host the started container is reached by (the runtime client's), for
 * DOUBLURE_ALLOWED_HOST: the control plane answers only the hosts it knows,
 * and a remote Docker host (CI's DOCKER_HOST=tcp://docker:2375) is none of
 * them. `*` when there is none to tell.
 */
export function allowedHost(host) {
  if (!host) return '*';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class DoublureContainer extends GenericContainer {
  #adminToken;

  constructor(image = defaultImage(), settings = {}) {
    super(image);
    this.withExposedPorts(PORT)
      .withWaitStrategy(Wait.forHttp('/__doublure/health', PORT).forStatusCode(200))
      .withStartupTimeout(30_000)
      .withSettings(settings);
  }

  /** The binary's settings in camelCase: `{ journalSize: 100 }` is DOUBLURE_JOURNAL_SIZE=100. */
  withSettings(settings) {
    const { adminToken, ...rest } = settings ?? {};
    if (adminToken !== undefined) this.withAdminToken(adminToken);
    return this.withEnvironment(toEnvironment(rest));
  }

  /** Copies the fixture directory into the container and serves it instead of the built-in data. */
  withFixtures(directory) {
    const source = resolve(directory);
    const target = `${FIXTURES}/${basename(source)}`;
    return this.withCopyDirectoriesToContainer([{ source, target }]).withEnvironment({ DOUBLURE_FIXTURES: target });
  }

  /** Generated data: `users` of each API, or each count on its own. */
  withGenerated({ users, logoraUsers, wcsUsers, formsPerUser, seed } = {}) {
    return this.withSettings({
      generateLogoraUsers: logoraUsers ?? users,
      generateWcsUsers: wcsUsers ?? users,
      generateFormsPerUser: formsPerUser,
      seed,
    });
  }

  /** The control plane's bearer token; the handles send it. */
  withAdminToken(token) {
    this.#adminToken = String(token);
    return this.withEnvironment({ DOUBLURE_ADMIN_TOKEN: this.#adminToken });
  }

  async start() {
    if (!('DOUBLURE_ALLOWED_HOST' in this.environment)) {
      let host;
      try {
        host = (await getContainerRuntimeClient()).info.containerRuntime.host;
      } catch {
        // No runtime to ask: the start's own error says more.
      }
      this.withEnvironment({ DOUBLURE_ALLOWED_HOST: allowedHost(host) });
    }
    let started;
    try {
      started = await super.start();
    } catch (error) {
      if (!(await imageHere(this.imageName))) {
        const image = this.imageName.string;
        throw new StartError(
          `the image ${image} is not on this machine and could not be pulled (${error.message}). ` +
            `Pull it (docker pull ${image}), or build it from a clone of doublure ` +
            `(docker build -t ${image} .), or name another with DOUBLURE_IMAGE=name:tag`,
        );
      }
      throw error;
    }
    try {
      const url = `http://${started.getHost()}:${started.getMappedPort(PORT)}`;
      return new StartedDoublureContainer(started, await connect(url, { adminToken: this.#adminToken }));
    } catch (error) {
      await started.stop();
      throw error;
    }
  }
}

async function imageHere(imageName) {
  try {
    const client = await getContainerRuntimeClient();
    return await client.image.exists(ImageName.fromString(imageName.string));
  } catch {
    return false;
  }
}

export class StartedDoublureContainer extends AbstractStartedContainer {
  #doublure;

  constructor(started, doublure) {
    super(started);
    this.#doublure = doublure;
  }

  /** The base URL the emulated APIs answer at, from the host. */
  get url() {
    return this.#doublure.url;
  }

  /** The `Doublure` handle on the container's server (its root), as connect() gives. */
  connect() {
    return this.#doublure;
  }

  /** A handle on namespace `name`: token, sign, clock, faults, journal, drop. */
  namespace(name) {
    return this.#doublure.namespace(name);
  }
}
