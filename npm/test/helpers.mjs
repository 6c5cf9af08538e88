// Shared by the tests, which run from a temporary prefix where the packed
// tarball is installed (`import 'doublure'` is what a user gets).

import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(join(process.cwd(), 'index.js'));

/** The installed package's directory. */
export const installed = dirname(require.resolve('doublure/package.json'));
/** The prefix the tarball was installed into. */
export const prefix = dirname(dirname(installed));
/** The link npm made for the `doublure` command. */
export const binLink = join(prefix, 'node_modules', '.bin', 'doublure');

/** The repository the package was packed from (fixtures, platform packages). */
export function repo() {
  const dir = process.env.DOUBLURE_REPO;
  if (!dir) throw new Error('set DOUBLURE_REPO to the repository the tarball was packed from');
  return dir;
}

/** One HTTP call: status, headers and the decoded JSON body (or text). */
export async function call(method, url, { headers = {}, body } = {}) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let decoded = text;
  try {
    decoded = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, headers: response.headers, body: decoded };
}

/** An executable shell script standing in for the binary. */
export function script(dir, body) {
  const path = join(dir, 'fake-doublure');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Runs a command to its end: status, signal, stdout and stderr. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Resolves with the first stdout line matching `pattern`, from a running child. */
export function waitForLine(child, pattern) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk) => {
      buffer += chunk;
      const found = pattern.exec(buffer);
      if (found) {
        child.stdout.off('data', onData);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before ${pattern}:\n${buffer}`)));
  });
}
