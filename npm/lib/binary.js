// Finds the doublure executable: DOUBLURE_BINARY, then the binary of the
// @doublure/<os>-<arch> package npm installed for this machine, then one
// bundled into this package by a local `npm pack` (see scripts/bundle.mjs).

import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/** The platforms a binary package is published for. */
export const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

/** This machine's platform, in the packages' naming (`linux-x64`). */
export function currentPlatform() {
  return `${process.platform}-${process.arch}`;
}

function executableName(platform) {
  return platform.startsWith('win32-') ? 'doublure.exe' : 'doublure';
}

function isExecutable(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of the doublure executable to run.
 * @param {string} [explicit] a path given by the caller, tried first
 */
export function findBinary(explicit) {
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(`binary names ${JSON.stringify(explicit)}, which is not an executable file`);
  }
  const fromEnv = process.env.DOUBLURE_BINARY;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`DOUBLURE_BINARY names ${JSON.stringify(fromEnv)}, which is not an executable file`);
  }
  const platform = currentPlatform();
  const exe = executableName(platform);
  if (PLATFORMS.includes(platform)) {
    let manifest;
    try {
      manifest = require.resolve(`@doublure/${platform}/package.json`);
    } catch {
      // Not installed: optional dependencies are skipped with --no-optional,
      // and a local tarball's are not published yet.
    }
    if (manifest) {
      const path = join(dirname(manifest), 'bin', exe);
      if (isExecutable(path)) return path;
    }
  }
  const bundled = join(here, '..', 'vendor', exe);
  if (isExecutable(bundled) && bundledPlatform() === platform) return bundled;
  const supported = PLATFORMS.includes(platform)
    ? `the optional dependency @doublure/${platform} is not installed (was npm run with --omit=optional?)`
    : `no binary package is published for ${platform} (only ${PLATFORMS.join(', ')})`;
  throw new Error(
    `cannot find the doublure binary: ${supported}; build it (cargo build --release) and set DOUBLURE_BINARY to its path`,
  );
}

function bundledPlatform() {
  try {
    return JSON.parse(readFileSync(join(here, '..', 'vendor', 'platform.json'), 'utf8')).platform;
  } catch {
    return undefined;
  }
}
