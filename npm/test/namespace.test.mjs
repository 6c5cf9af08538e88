// Namespace handles: each has its own data, clock, tokens, journal and
// faults on one server. These tests need a server with namespaces.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect, start } from 'doublure';
import { call } from './helpers.mjs';

let server;
let stopServer = false;
before(async () => {
  if (process.env.DOUBLURE_URL) server = await connect(process.env.DOUBLURE_URL);
  else {
    server = await start();
    stopServer = true;
  }
});
after(async () => {
  if (stopServer) await server.stop();
});

const fresh = (label) => server.namespace(`${label}-${randomBytes(4).toString('hex')}`);

test("a namespace's clock, faults and journal are its own", async () => {
  const space = fresh('own');
  const rootFaults = await server.control('GET', 'faults');
  const rootJournal = await server.requests();
  try {
    await space.setClock('2031-05-01T00:00:00Z');
    await space.fault({ path: '/api/v1/users', status: 503 });
    assert.equal((await call('GET', `${space.url}/api/v1/users?api_key=API_KEY`)).status, 503);
    assert.deepEqual(await space.clock(), { now: '2031-05-01T00:00:00Z', frozen: true });
    assert.deepEqual((await space.requests()).map((e) => [e.path, e.status]), [['/api/v1/users', 503]]);
    assert.notEqual((await server.clock()).now, '2031-05-01T00:00:00Z');
    assert.deepEqual(await server.control('GET', 'faults'), rootFaults);
    assert.deepEqual(await server.requests(), rootJournal);
  } finally {
    await space.drop();
  }
});

test('two namespaces do not see each other’s resets, clocks or faults', async () => {
  const a = fresh('a');
  const b = fresh('b');
  try {
    await a.setClock('2026-01-15T10:00:00Z');
    await a.fault({ path: '/api/v1/users', status: 503 });
    await b.setClock('2031-07-01T08:00:00Z');
    await b.fault({ path: '/api/v1/users', status: 429 });
    await b.reset();
    assert.deepEqual(await a.clock(), { now: '2026-01-15T10:00:00Z', frozen: true });
    assert.equal((await call('GET', `${a.url}/api/v1/users?api_key=API_KEY`)).status, 503);
    assert.equal((await b.clock()).frozen, false);
    assert.equal((await call('GET', `${b.url}/api/v1/users?api_key=API_KEY`)).status, 200);
  } finally {
    await a.drop();
    await b.drop();
  }
});

test('a token and a signed URL work in a namespace', async () => {
  const space = fresh('creds');
  try {
    const token = await space.token();
    const users = await call('GET', `${space.url}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([users.status, users.headers.get('total')], [200, '48']);
    const url = await space.sign('/api/user/', { email: 'fred@example.net' });
    assert.ok(url.startsWith(`${space.url}/api/user/?`), url);
    const profile = await call('GET', url);
    assert.deepEqual([profile.status, profile.body.user_email], [200, 'fred@example.net']);
  } finally {
    await space.drop();
  }
});

test('drop says whether there was a namespace, and a dropped one is no longer listed', async () => {
  const space = fresh('drop');
  assert.equal(await space.drop(), false);
  await space.reset();
  assert.ok((await server.namespaces()).some((n) => n.name === space.name));
  assert.equal(await space.drop(), true);
  assert.ok(!(await server.namespaces()).some((n) => n.name === space.name));
});
