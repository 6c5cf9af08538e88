// Puts a built doublure binary into its platform package, ready for
// `npm publish npm/platforms/<os>-<arch>`:
//
//   node npm/scripts/stage.mjs --platform linux-x64 \
//     --binary target/x86_64-unknown-linux-musl/release/doublure [--version 0.1.0]
//
// --version sets that package's version (default: the main package's).

import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

function fail(message) {
  console.error(`stage: ${message}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: { platform: { type: 'string' }, binary: { type: 'string' }, version: { type: 'string' } },
    strict: true,
  }));
} catch (error) {
  fail(`${error.message}\nusage: node npm/scripts/stage.mjs --platform <os>-<arch> --binary <path> [--version V]`);
}
const { platform, binary } = values;
if (!platform || !binary) fail('usage: node npm/scripts/stage.mjs --platform <os>-<arch> --binary <path> [--version V]');
if (!PLATFORMS.includes(platform)) fail(`unknown platform ${JSON.stringify(platform)}; one of ${PLATFORMS.join(', ')}`);
if (!existsSync(binary) || !statSync(binary).isFile()) fail(`${binary} is not a file`);

const version = values.version ?? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) fail(`${JSON.stringify(version)} is not a version`);

const dir = join(root, 'platforms', platform);
const manifestPath = join(dir, 'package.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const exe = platform.startsWith('win32-') ? 'doublure.exe' : 'doublure';
mkdirSync(join(dir, 'bin'), { recursive: true });
copyFileSync(binary, join(dir, 'bin', exe));
chmodSync(join(dir, 'bin', exe), 0o755);
manifest.version = version;
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
console.log(`staged ${binary} as ${manifest.name}@${version} (${join(dir, 'bin', exe)})`);
