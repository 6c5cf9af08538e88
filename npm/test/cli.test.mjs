// `npx doublure …`: the wrapper passes arguments, standard streams, signals
// and the exit status through to the binary.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { binLink, installed, prefix, run, script, waitForLine } from './helpers.mjs';

const { version } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));

test('npx doublure --version prints the package version', async () => {
  const result = await run('npx', ['--no-install', 'doublure', '--version'], { cwd: prefix });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, `doublure ${version}\n`);
  assert.equal(result.status, 0);
});

test('arguments reach the binary and its output comes back', async () => {
  const result = await run(binLink, ['sign', 'http://localhost:8080/api/user/', '--orig', 'demo', '--email', 'fred@example.net']);
  assert.equal(result.status, 0);
  assert.match(
    result.stdout,
    /^http:\/\/localhost:8080\/api\/user\/\?email=fred%40example\.net&orig=demo&algo=sha256&timestamp=[^&]+&nonce=[0-9a-f]{32}&signature=[^&]+\n$/,
  );
});

test("the binary's exit status and standard error come back", async () => {
  const result = await run(binLink, ['fixtures', 'validate', '/no/such/dir']);
  assert.equal(result.status, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /\/no\/such\/dir: not a directory/);
});

test('standard input, arguments, both outputs and the status pass through unchanged', async () => {
  const fake = script(mkdtempSync(join(tmpdir(), 'doublure-')), 'read line; echo "got $line"; echo "args: $*"; echo oops >&2; exit 7');
  const result = await run(binLink, ['a', 'b c'], { env: { ...process.env, DOUBLURE_BINARY: fake }, input: 'hello\n' });
  assert.deepEqual(result, { status: 7, signal: null, stdout: 'got hello\nargs: a b c\n', stderr: 'oops\n' });
});

test('a binary killed by a signal makes the wrapper end by the same signal', async () => {
  const fake = script(mkdtempSync(join(tmpdir(), 'doublure-')), 'kill -TERM $$');
  const result = await run(binLink, [], { env: { ...process.env, DOUBLURE_BINARY: fake } });
  assert.equal(result.status, null);
  assert.equal(result.signal, 'SIGTERM');
});

test('a DOUBLURE_BINARY that does not exist is named in the error', async () => {
  const result = await run(binLink, ['--version'], { env: { ...process.env, DOUBLURE_BINARY: '/no/such/doublure' } });
  assert.equal(result.status, 1);
  assert.equal(result.stderr, 'doublure: DOUBLURE_BINARY names "/no/such/doublure", which is not an executable file\n');
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} sent to the wrapper stops the server gracefully, and its status comes back`, async () => {
    const wrapper = spawn(binLink, ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    wrapper.stdout.on('data', (d) => (stdout += d));
    const [, url] = await waitForLine(wrapper, /doublure listening on (http:\/\/\S+)/);
    // At once: the binary's handlers are in place before it announces itself.
    const exited = new Promise((resolve) => wrapper.on('close', (code, sig) => resolve({ code, sig })));

    wrapper.kill(signal);

    assert.deepEqual(await exited, { code: 0, sig: null });
    assert.match(stdout, /shutting down: finishing in-flight requests/);
    await assert.rejects(fetch(`${url}/__doublure/health`), /fetch failed/);
  });
}
