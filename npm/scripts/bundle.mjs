// `npm pack` / `npm publish` hook. prepack: when the repository has a
// release build (../target/release/doublure, from `cargo build --release`),
// copy it into vendor/ so the tarball runs on this machine without the
// per-platform packages. postpack (--clean): remove vendor/ again.
// DOUBLURE_NPM_BUNDLE=0 packs without a binary (a release, whose binaries
// are the @doublure/<os>-<arch> packages).

import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vendor = join(root, 'vendor');

rmSync(vendor, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);

if (process.env.DOUBLURE_NPM_BUNDLE === '0') {
  console.error('doublure: DOUBLURE_NPM_BUNDLE=0, packing without a bundled binary');
  process.exit(0);
}
const exe = process.platform === 'win32' ? 'doublure.exe' : 'doublure';
const built = join(root, '..', 'target', 'release', exe);
if (!existsSync(built)) {
  console.error(
    `doublure: no ${built}; packing without a bundled binary (run cargo build --release first for a tarball that runs here)`,
  );
  process.exit(0);
}
// A stale build from another version would answer to the wrong package.
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const printed = execFileSync(built, ['--version'], { encoding: 'utf8' }).trim();
if (printed !== `doublure ${version}`) {
  console.error(`doublure: ${built} says "${printed}", not "doublure ${version}"; rebuild it (cargo build --release)`);
  process.exit(1);
}
mkdirSync(vendor);
copyFileSync(built, join(vendor, exe));
chmodSync(join(vendor, exe), 0o755);
const platform = `${process.platform}-${process.arch}`;
writeFileSync(join(vendor, 'platform.json'), JSON.stringify({ platform, version }) + '\n');
console.error(`doublure: bundled ${built} (${printed}, ${platform})`);
