// The package layout: one binary package per platform, versions that agree
// with Cargo.toml, and stage.mjs putting a binary into its package.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { installed, repo, run } from './helpers.mjs';

const PLATFORMS = { 'linux-x64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'darwin-x64': ['darwin', 'x64'], 'darwin-arm64': ['darwin', 'arm64'], 'win32-x64': ['win32', 'x64'] };
const json = (path) => JSON.parse(readFileSync(path, 'utf8'));

test('every version agrees with Cargo.toml, and each platform has its optional package', () => {
  const cargo = readFileSync(join(repo(), 'Cargo.toml'), 'utf8').match(/^version = "([^"]+)"/m)[1];
  const main = json(join(installed, 'package.json'));
  assert.equal(main.version, cargo);
  assert.deepEqual(
    main.optionalDependencies,
    Object.fromEntries(Object.keys(PLATFORMS).sort().map((p) => [`@doublure/${p}`, cargo])),
  );
  for (const [platform, [os, cpu]] of Object.entries(PLATFORMS)) {
    const manifest = json(join(repo(), 'npm', 'platforms', platform, 'package.json'));
    assert.equal(manifest.name, `@doublure/${platform}`);
    assert.equal(manifest.version, cargo, platform);
    assert.deepEqual([manifest.os, manifest.cpu], [[os], [cpu]], platform);
    assert.deepEqual(manifest.files, [os === 'win32' ? 'bin/doublure.exe' : 'bin/doublure'], platform);
  }
});

test('the tarball holds the module, its types, the command and this machine binary, and no tests', () => {
  for (const file of ['index.js', 'index.d.ts', 'bin/doublure.js', 'lib/binary.js', 'vendor/doublure', 'vendor/platform.json', 'README.md']) {
    assert.ok(statSync(join(installed, file)).isFile(), file);
  }
  assert.equal(statSync(join(installed, 'vendor/doublure')).mode & 0o111, 0o111);
  assert.deepEqual(json(join(installed, 'vendor/platform.json')), { platform: `${process.platform}-${process.arch}`, version: json(join(installed, 'package.json')).version });
  assert.throws(() => statSync(join(installed, 'test')), /ENOENT/);
});

function copyOfNpm() {
  const dir = mkdtempSync(join(tmpdir(), 'doublure-npm-'));
  cpSync(join(repo(), 'npm'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.endsWith('/vendor') });
  return dir;
}

test('stage.mjs puts a binary into its platform package, ready to pack', async () => {
  const npm = copyOfNpm();
  const binary = join(npm, 'built-doublure');
  writeFileSync(binary, 'not really a binary');
  const staged = await run(process.execPath, [join(npm, 'scripts/stage.mjs'), '--platform', 'linux-arm64', '--binary', binary, '--version', '9.8.7']);
  assert.equal(staged.status, 0, staged.stderr);
  const target = join(npm, 'platforms/linux-arm64/bin/doublure');
  assert.equal(staged.stdout, `staged ${binary} as @doublure/linux-arm64@9.8.7 (${target})\n`);
  assert.equal(readFileSync(target, 'utf8'), 'not really a binary');
  assert.equal(statSync(target).mode & 0o755, 0o755);
  assert.equal(json(join(npm, 'platforms/linux-arm64/package.json')).version, '9.8.7');
  const packed = await run('npm', ['pack', '--dry-run', '--json', join(npm, 'platforms/linux-arm64')], { cwd: npm });
  assert.equal(packed.status, 0, packed.stderr);
  const [{ name, version, files }] = JSON.parse(packed.stdout);
  assert.deepEqual([name, version], ['@doublure/linux-arm64', '9.8.7']);
  assert.deepEqual(files.map((f) => f.path).sort(), ['README.md', 'bin/doublure', 'package.json']);
});

test('stage.mjs refuses an unknown platform and a missing binary, naming them', async () => {
  const npm = copyOfNpm();
  const stage = join(npm, 'scripts/stage.mjs');
  const unknown = await run(process.execPath, [stage, '--platform', 'linux-ppc64', '--binary', stage]);
  assert.equal(unknown.status, 2);
  assert.equal(unknown.stderr, 'stage: unknown platform "linux-ppc64"; one of linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64\n');
  const missing = await run(process.execPath, [stage, '--platform', 'linux-x64', '--binary', '/no/such/file']);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, 'stage: /no/such/file is not a file\n');
});

test('DOUBLURE_NPM_BUNDLE=0 packs the main package without a binary', async () => {
  const npm = copyOfNpm();
  const packed = await run('npm', ['pack', '--dry-run', '--json', '.'], { cwd: npm, env: { ...process.env, DOUBLURE_NPM_BUNDLE: '0' } });
  assert.equal(packed.status, 0, packed.stderr);
  const paths = JSON.parse(packed.stdout)[0].files.map((f) => f.path);
  assert.ok(paths.includes('index.js') && paths.includes('bin/doublure.js'), paths.join(' '));
  assert.ok(paths.includes('testcontainers.js') && paths.includes('testcontainers.d.ts'), paths.join(' '));
  assert.ok(!paths.some((p) => p.startsWith('vendor/')), paths.join(' '));
});

test('installed with its platform package, the command runs that package binary', async () => {
  const npm = copyOfNpm();
  const platform = `${process.platform}-${process.arch}`;
  const built = join(installed, 'vendor', 'doublure');
  const staged = await run(process.execPath, [join(npm, 'scripts/stage.mjs'), '--platform', platform, '--binary', built]);
  assert.equal(staged.status, 0, staged.stderr);
  const env = { ...process.env, DOUBLURE_NPM_BUNDLE: '0' };
  const packed = await run('npm', ['pack', join(npm, 'platforms', platform), '.'], { cwd: npm, env });
  assert.equal(packed.status, 0, packed.stderr);
  const [platformTarball, mainTarball] = packed.stdout.trim().split('\n').slice(-2);
  const project = mkdtempSync(join(tmpdir(), 'doublure-project-'));
  writeFileSync(join(project, 'package.json'), '{"private": true}\n');
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', join(npm, mainTarball), join(npm, platformTarball)], { cwd: project });
  assert.equal(install.status, 0, install.stderr);

  const found = await run(process.execPath, ['--input-type=module', '-e', "import { findBinary } from 'doublure'; console.log(findBinary())"], { cwd: project });
  assert.equal(found.stdout, `${join(project, 'node_modules', '@doublure', platform, 'bin', 'doublure')}\n`);
  const version = await run('npx', ['--no-install', 'doublure', '--version'], { cwd: project });
  assert.equal(version.stdout, `doublure ${json(join(installed, 'package.json')).version}\n`);
  assert.throws(() => statSync(join(project, 'node_modules', 'doublure', 'vendor')), /ENOENT/);
});
