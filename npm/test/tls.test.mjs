// start({ tls: true }): HTTPS with a CA of the handle's own, as a PEM, a
// file, and an undici Agent (when undici is installed).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DoublureError, connect, start } from 'doublure';

/** A GET through node:https trusting `ca` (or the default store): status and body. */
function get(url, ca, headers = {}) {
  return new Promise((resolve, reject) => {
    request(url, ca ? { ca, headers } : { headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    })
      .on('error', reject)
      .end();
  });
}

describe('a server started with tls: true', () => {
  let d;
  before(async () => {
    d = await start({ tls: true, tlsName: ['app.logora.fr'] });
  });
  after(async () => {
    await d.stop();
  });

  test('serves https with the CA as a PEM and a file', async () => {
    assert.match(d.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(d.caPem, /^-----BEGIN CERTIFICATE-----\n/);
    assert.equal(readFileSync(d.caFile, 'utf8'), d.caPem);
    const { status, body } = await get(`${d.url}/__doublure/health`, d.caPem);
    assert.deepEqual({ status, body: JSON.parse(body) }, { status: 200, body: { status: 'ok' } });
  });

  test("the handle's own calls go over https", async () => {
    const token = await d.token();
    const { status, body } = await get(`${d.url}/api/v1/users?per_page=2`, d.caPem, { authorization: `Bearer ${token}` });
    assert.equal(status, 200);
    assert.equal(JSON.parse(body).data.length, 2);
    const mine = d.namespace('tls-npm');
    assert.equal(mine.caPem, d.caPem);
    assert.ok(await mine.token());
    await mine.drop();
  });

  test('without the CA the certificate is refused', async () => {
    await assert.rejects(get(`${d.url}/__doublure/health`), (error) => {
      assert.equal(error.code, 'SELF_SIGNED_CERT_IN_CHAIN');
      return true;
    });
  });

  test('a child process trusts it through NODE_EXTRA_CA_CERTS', async () => {
    const child = spawn(process.execPath, ['-e', `fetch(${JSON.stringify(d.url + '/__doublure/health')}).then(async (r) => console.log(r.status, await r.text()))`], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: d.caFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    await new Promise((done) => child.on('close', done));
    assert.equal(out.trim(), '200 {"status":"ok"}');
  });

  test('connect() trusts a caFile', async () => {
    const other = await connect(d.url, { caFile: d.caFile });
    assert.deepEqual(Object.keys(await other.clock()).sort(), ['frozen', 'now']);
  });

  test('dispatcher() is an undici Agent trusting the CA, or says undici is missing', async () => {
    let undici;
    try {
      undici = await import('undici');
    } catch {
      await assert.rejects(d.dispatcher(), DoublureError);
      return;
    }
    const answer = await undici.fetch(`${d.url}/__doublure/health`, { dispatcher: await d.dispatcher() });
    assert.equal(answer.status, 200);
  });
});

test('stop() removes the temporary CA folder', async () => {
  const d = await start({ tls: true });
  const folder = dirname(d.caFile);
  assert.ok(existsSync(folder));
  await d.stop();
  assert.ok(!existsSync(folder));
});
