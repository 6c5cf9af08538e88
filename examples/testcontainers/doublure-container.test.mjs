// doublure in a container, with Node's test runner: `npm install doublure
// testcontainers@10`, then `node --test`. Needs a Docker API (Docker, or
// Podman's `podman system service` with DOCKER_HOST) and the image at the
// package's version (pulled, or built: README.md, "Docker in brief").
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getContainerRuntimeClient } from 'testcontainers';
import { StartError } from 'doublure';
import { DoublureContainer, allowedHost } from 'doublure/testcontainers';

let container;
before(async () => {
  container = await new DoublureContainer().start();
});
// Runs when a test failed too: the container goes either way.
after(() => container?.stop());

async function get(url, token) {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, total: response.headers.get('total'), body: await response.json() };
}

// A token and a users page, a signed w.c.s. call, a fault, a clock move, the journal.
async function story(doublure) {
  await doublure.setClock('2026-01-15T10:00:00Z'); // frozen: only the test moves it
  const token = await doublure.token();
  const page = await get(`${doublure.url}/api/v1/users?per_page=5`, token);
  assert.deepEqual([page.status, page.total, page.body.data.length], [200, '48', 5]);

  const profile = await get(await doublure.sign('/api/user/', { email: 'fred@example.net' }));
  assert.deepEqual([profile.status, profile.body.user_display_name], [200, 'Fred Cuadrado']);

  await doublure.fault({ path: '/api/v1/users', status: 503, count: 1 });
  const users = `${doublure.url}/api/v1/users?api_key=API_KEY`;
  assert.deepEqual([(await get(users)).status, (await get(users)).status], [503, 200]);

  await doublure.advance(7201);
  const expired = await get(`${doublure.url}/api/v1/users`, token);
  assert.deepEqual([expired.status, expired.body.error_description], [401, 'The access token expired']);

  const refused = await doublure.requests({ status: 401 });
  assert.deepEqual(refused.map((e) => [e.path, e.outcome]), [['/api/v1/users', 'token of API_KEY expired 1 s ago']]);
  assert.equal((await doublure.requests({ status: 503 })).length, 1);
}

test('two namespaces of one container at once', async () => {
  const handles = [container.namespace('node_a'), container.namespace('node_b')];
  await Promise.all(handles.map(story));
  assert.deepEqual(await Promise.all(handles.map((h) => h.drop())), [true, true]);
  const root = await container.connect().requests();
  assert.deepEqual(root.filter((e) => e.path.includes('/api/')), []);
});

test('settings reach the container as DOUBLURE_* variables', async () => {
  const own = await new DoublureContainer(undefined, { journalSize: 500 })
    .withGenerated({ users: 120 })
    .withAdminToken('s3cret')
    .start();
  try {
    // The 48 built-in users and the 120 generated ones.
    assert.equal((await get(`${own.url}/api/v1/users?api_key=API_KEY&per_page=1`)).total, '168');
    await own.connect().reset(); // the handle sends the admin token
  } finally {
    await own.stop();
  }
});

test('fixtures are copied into the container', async () => {
  // The repository's Kubernetes example: three Logora users, client TEAM_KEY.
  // DOUBLURE_REPO: the clone, when this file runs from a copy.
  const repo = process.env.DOUBLURE_REPO ?? fileURLToPath(new URL('../..', import.meta.url));
  const own = await new DoublureContainer().withFixtures(`${repo}/deploy/kubernetes/components/fixtures`).start();
  try {
    assert.equal((await get(`${own.url}/api/v1/users?api_key=TEAM_KEY`)).total, '3');
  } finally {
    await own.stop();
  }
});

test('a failing test still removes its container', async () => {
  let id;
  await assert.rejects(async () => {
    const own = await new DoublureContainer().start();
    id = own.getId();
    try {
      throw new Error('fails on purpose, holding its container');
    } finally {
      await own.stop();
    }
  }, /on purpose/);
  const client = await getContainerRuntimeClient();
  await assert.rejects(client.container.getById(id).inspect(), (error) => error.statusCode === 404);
});

test('a wrong image tag is named with how to get it', async () => {
  const started = Date.now();
  const image = 'ghcr.io/doublure/doublure:0.0.0-missing';
  await assert.rejects(new DoublureContainer(image).start(), (error) => {
    assert.ok(error instanceof StartError, String(error));
    assert.ok(error.message.startsWith(`the image ${image} is not on this machine`), error.message);
    assert.ok(error.message.includes(`docker build -t ${image} .`), error.message);
    return true;
  });
  assert.ok(Date.now() - started < 60_000);
});

test('fails on purpose, to see its container go', { skip: !process.env.DOUBLURE_FAIL_ON_PURPOSE }, async () => {
  await story(container.namespace('on_purpose'));
  assert.fail('this test fails on purpose: its container must still be removed');
});

test('the container allows the host its url names', () => {
  assert.equal(allowedHost('docker'), 'docker');
  assert.equal(allowedHost('::1'), '[::1]');
  assert.equal(allowedHost(undefined), '*');
});
