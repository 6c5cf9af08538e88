// The handle from start() and connect(), against servers of its own.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ControlPlaneError, Doublure, DoublureError, StartError, UnhealthyError, connect, findBinary, start, toFlags } from 'doublure';
import { call, installed, prefix, repo, run, script } from './helpers.mjs';

describe('a started server', () => {
  let d;
  before(async () => {
    d = await start();
  });
  after(async () => {
    await d.stop();
  });
  beforeEach(async () => {
    await d.reset();
  });

  test('listens on a free loopback port and is healthy', async () => {
    assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(d.url, 'http://127.0.0.1:8080');
    assert.equal(d.name, null);
    const { status, body } = await call('GET', `${d.url}/__doublure/health`);
    assert.deepEqual({ status, body }, { status: 200, body: { status: 'ok' } });
  });

  test('a minted token lists the Logora users', async () => {
    const token = await d.token();
    const { status, headers, body } = await call('GET', `${d.url}/api/v1/users?per_page=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(status, 200);
    assert.equal(headers.get('total'), '48');
    assert.equal(body.data.length, 5);
  });

  test('a token expires when the clock moves past its lifetime', async () => {
    await d.setClock('2026-01-15T10:00:00Z');
    const token = await d.token({ clientId: 'API_KEY', scope: 'public' });
    assert.deepEqual(await d.advance(7201), { now: '2026-01-15T12:00:01Z', frozen: true });
    const { status, body } = await call('GET', `${d.url}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(status, 401);
    assert.equal(body.error_description, 'The access token expired');
  });

  test('setClock takes a Date, freezes by default, and can leave the clock running', async () => {
    assert.deepEqual(await d.setClock(new Date(Date.UTC(2026, 2, 1, 9, 30))), { now: '2026-03-01T09:30:00Z', frozen: true });
    assert.deepEqual(await d.clock(), { now: '2026-03-01T09:30:00Z', frozen: true });
    assert.deepEqual(await d.setClock(null, { frozen: false }), { now: '2026-03-01T09:30:00Z', frozen: false });
    await assert.rejects(d.setClock(new Date('nope')), { name: 'TypeError', message: 'setClock: invalid Date' });
    await assert.rejects(d.advance('60'), /advance: seconds must be a finite number, not "60"/);
  });

  test('a signed path reads the user profile, once', async () => {
    const url = await d.sign('/api/user/', { email: 'fred@example.net' });
    assert.ok(url.startsWith(`${d.url}/api/user/?email=fred%40example.net&orig=demo&algo=sha256&`), url);
    const first = await call('GET', url);
    assert.equal(first.status, 200);
    assert.equal(first.body.user_email, 'fred@example.net');
    const again = await call('GET', url);
    assert.deepEqual([again.status, again.body.err_desc], [403, 'Nonce already used.']);
  });

  test('a URL signed at the emulated time follows the clock, and a wrong key is refused', async () => {
    await d.setClock('2026-01-15T10:00:00Z');
    const url = await d.sign('/api/user/forms', { orig: 'demo', email: 'fred@example.net' });
    assert.match(url, /timestamp=2026-01-15T10%3A00%3A00Z/);
    await d.advance(31);
    const late = await call('GET', url);
    assert.equal(late.status, 403);
    assert.match(late.body.err_desc, /^timestamp is more than 30 seconds in the past/);
    const wrong = await call('GET', await d.sign('/api/user/', { email: 'fred@example.net', key: 'wrong' }));
    assert.deepEqual([wrong.status, wrong.body.err_desc], [403, 'Invalid signature.']);
    await assert.rejects(d.sign('/api/user/', { email: 'a@b.c', nameId: 'x' }), /give email or nameId, not both/);
  });

  test('a fault resolves to its id and fails the next calls', async () => {
    const id = await d.fault({ method: 'GET', path: '/api/v1/users', status: 503, count: 2 });
    assert.equal(typeof id, 'number');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', `${d.url}/api/v1/users?api_key=API_KEY`)).status);
    assert.deepEqual(statuses, [503, 503, 200]);
    await assert.rejects(d.fault({}), /fault: give the rule/);
  });

  test('requests filters the journal', async () => {
    await d.setClock('2026-01-15T10:00:00Z');
    await call('POST', `${d.url}/oauth/token?grant_type=client_credentials&client_id=API_KEY&client_secret=WRONG`);
    await d.advance(60);
    await call('GET', `${d.url}/api/v1/users?api_key=API_KEY`);
    const refused = await d.requests({ status: 401 });
    assert.deepEqual(
      refused.map((e) => [e.method, e.path, e.status]),
      [['POST', '/oauth/token', 401]],
    );
    assert.match(refused[0].outcome, /^invalid_client: wrong client_secret for API_KEY/);
    assert.deepEqual((await d.requests()).map((e) => e.path), ['/oauth/token', '/api/v1/users']);
    assert.deepEqual((await d.requests({ limit: 1 })).map((e) => e.path), ['/api/v1/users']);
    assert.deepEqual((await d.requests({ since: new Date(Date.UTC(2026, 0, 15, 10, 0, 30)) })).map((e) => e.path), ['/api/v1/users']);
  });

  test('a refused call throws with the status, the message and the problems', async () => {
    const error = await d.control('PATCH', 'logora/users/21', { age: 'old' }).catch((e) => e);
    assert.ok(error instanceof ControlPlaneError && error instanceof DoublureError);
    assert.equal(error.status, 400);
    assert.equal(error.detail, 'invalid data: nothing was changed');
    assert.deepEqual(error.problems, [
      'state/logora/users.json: item 21 (id 21): field age: invalid type: string "old", expected u32',
    ]);
    assert.equal(error.body.error, error.detail);
    assert.ok(error.message.startsWith(`PATCH ${d.url}/__doublure/logora/users/21 answered 400: invalid data`));
    await assert.rejects(d.requests({ stauts: 401 }), { status: 400, message: /unknown field `stauts`/ });
  });

  test('control reaches routes no method wraps, and reset undoes everything', async () => {
    await d.control('PATCH', '/logora/users/21', { city: 'Lyon' });
    await d.setClock('2026-01-15T10:00:00Z');
    await d.fault({ path: '/api/v1/users', status: 503 });
    assert.equal((await d.control('GET', 'logora/users/21')).city, 'Lyon');
    await d.reset();
    assert.notEqual((await d.control('GET', 'logora/users/21')).city, 'Lyon');
    assert.equal((await d.clock()).frozen, false);
    assert.deepEqual(await d.control('GET', 'faults'), { faults: [] });
  });
});

test('options become the binary flags', async () => {
  assert.deepEqual(toFlags({ generateLogoraUsers: 10, watch: true, faultHeader: false, corsOrigin: ['http://a', 'http://b'], seed: undefined }), [
    '--generate-logora-users', '10', '--watch', 'true', '--fault-header', 'false', '--cors-origin', 'http://a,http://b',
  ]);
  assert.throws(() => toFlags({ 'journal-size': 3 }), /"journal-size" is not a doublure flag name in camelCase/);
  const d = await start({ generateLogoraUsers: 10, seed: 7, journalSize: 5 });
  try {
    const token = await d.token();
    const { headers } = await call('GET', `${d.url}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(headers.get('total'), '58');
    assert.equal((await d.control('GET', 'requests')).capacity, 5);
  } finally {
    await d.stop();
  }
});

for (const quiet of [{ logLevel: 'error' }, { env: { DOUBLURE_LOG_LEVEL: 'off' } }]) {
  test(`a quiet log level (${JSON.stringify(quiet)}) still lets the address be read`, async () => {
    const d = await start(quiet);
    try {
      await call('GET', `${d.url}/api/v1/users`); // refused: logged at info
      assert.match(d.output, /doublure listening on/);
      // The refusal's log line (`… status=401 …`), not any 401: the port
      // may hold one.
      assert.doesNotMatch(d.output, /status=401/);
    } finally {
      await d.stop();
    }
  });
}

test('a fixture directory is served', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'doublure-'));
  cpSync(join(repo(), 'fixtures'), join(dir, 'fixtures'), { recursive: true });
  const users = join(dir, 'fixtures', 'logora', 'users.json');
  writeFileSync(users, readFileSync(users, 'utf8').replace('"Aurélie Legrand"', '"Aurélie Test"'));
  const d = await start({ fixtures: join(dir, 'fixtures') });
  try {
    const { body } = await call('GET', `${d.url}/api/v1/users?per_page=1&api_key=API_KEY`);
    assert.equal(body.data[0].full_name, 'Aurélie Test');
  } finally {
    await d.stop();
  }
});

test('an unknown option rejects with the binary stderr and status', async () => {
  const error = await start({ noSuchOption: 1 }).catch((e) => e);
  assert.ok(error instanceof StartError);
  assert.ok(error.message.startsWith('doublure exited with status 2 before listening:\n'), error.message);
  assert.match(error.message, /error: unexpected argument '--no-such-option' found/);
  assert.equal(error.exitCode, 2);
});

test('an invalid fixture directory rejects with the problem', async () => {
  await assert.rejects(start({ fixtures: '/no/such/fixtures' }), { name: 'StartError', exitCode: 2, message: /\/no\/such\/fixtures: not a directory/ });
});

test('a binary that never listens is stopped and reported', async () => {
  const silent = script(mkdtempSync(join(tmpdir(), 'doublure-')), 'exec sleep 600');
  await assert.rejects(start({ binary: silent, startupTimeout: 500 }), {
    name: 'StartError',
    message: 'doublure did not report its address within 0.5 s (it wrote nothing)',
  });
});

test('a missing binary is named', async () => {
  await assert.rejects(start({ binary: '/no/such/doublure' }), {
    name: 'StartError',
    message: 'binary names "/no/such/doublure", which is not an executable file',
  });
});

test('the binary comes with the package: the bundled build of this machine', () => {
  assert.equal(findBinary(), join(installed, 'vendor', 'doublure'));
});

test('stop ends the process gracefully and says how it exited', async () => {
  const d = await start();
  assert.equal(await d.stop(), 0);
  assert.match(d.output, /shutting down: finishing in-flight requests/);
  await assert.rejects(d.reset(), new RegExp(`cannot reach doublure at ${d.url}/__doublure/reset: ECONNREFUSED`));
});

test('servers a script forgot to stop do not keep Node alive and end with it', async () => {
  const program = "import { start } from 'doublure'; for (let i = 0; i < 12; i++) await start(); const d = await start(); console.log(d.url);";
  const result = await run(process.execPath, ['--input-type=module', '-e', program], { cwd: prefix });
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
  const url = result.stdout.trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  // The kill is sent as Node exits; the kernel closes the port a moment later.
  let refused = false;
  for (let attempt = 0; attempt < 200 && !refused; attempt++) {
    refused = await fetch(`${url}/__doublure/health`).then(() => false, () => true);
  }
  assert.ok(refused, `${url} still answers after the script ended`);
});

test('the admin token is used by the handle and kept out of argv and errors', async () => {
  const d = await start({ adminToken: 's3cret-admin' });
  try {
    await d.reset();
    assert.equal((await call('POST', `${d.url}/__doublure/reset`)).status, 401);
    const anonymous = await connect(d.url);
    const error = await anonymous.reset().catch((e) => e);
    assert.equal(error.status, 401);
    assert.ok(!error.message.includes('s3cret-admin'));
    assert.ok(!commandLines().some((line) => line.includes('s3cret-admin')));
    assert.equal((await connect(d.url, { adminToken: 's3cret-admin' })).url, d.url);
    await (await connect(d.url, { adminToken: 's3cret-admin' })).reset();
  } finally {
    await d.stop();
  }
});

test('connect to nothing rejects with the URL', async () => {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  await new Promise((resolve) => server.close(resolve));
  const error = await connect(url).catch((e) => e);
  assert.ok(error instanceof UnhealthyError);
  assert.equal(error.url, `${url}/__doublure/health`);
  assert.match(error.message, new RegExp(`^doublure at ${url} is not healthy: cannot reach`));
});

test('connect to an unhealthy server rejects with the URL and the answer', async () => {
  const server = createServer((_, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"still loading"}'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    await assert.rejects(connect(url), {
      name: 'UnhealthyError',
      message: `doublure at ${url} is not healthy: GET ${url}/__doublure/health answered 503: still loading`,
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(connect('localhost:8080'), { name: 'TypeError', message: 'connect: "localhost:8080" is not an http:// or https:// URL' });
});

test('a connected handle does not stop the server', async () => {
  const d = await start();
  try {
    const connected = await connect(`${d.url}/`);
    assert.equal(connected.url, d.url);
    assert.equal(await connected.stop(), null);
    await d.reset();
  } finally {
    await d.stop();
  }
});

test('namespace names are checked before any call, and namespaces do not nest', () => {
  const root = new Doublure('http://127.0.0.1:9/');
  const space = root.namespace('team-a.1_x');
  assert.equal(space.url, 'http://127.0.0.1:9/__ns/team-a.1_x');
  assert.equal(space.name, 'team-a.1_x');
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'é', 'x'.repeat(65)]) {
    assert.throws(() => root.namespace(bad), { name: 'TypeError', message: /use 1 to 64 characters among A-Z a-z 0-9 \. _ -/ });
  }
  assert.throws(() => space.namespace('b'), /namespaces do not nest/);
  return assert.rejects(root.drop(), /drop\(\) is for a namespace's handle/);
});

/** Every process's command line, as `ps` would show it. */
function commandLines() {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')];
      } catch {
        return []; // ended meanwhile
      }
    });
}
