// Drives page/ in Chromium with Playwright: the page calls doublure from
// the browser (CORS), and the test arranges doublure with its handle.
// Run: cargo build --release && npm pack ./npm (at the repository root),
// then npm install && npm test here. CHROMIUM names the browser
// (default /usr/bin/chromium, Debian's chromium package).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { after, before, beforeEach, test } from 'node:test';
import { start } from 'doublure';
import { chromium } from 'playwright-core';

const PAGE = new URL('./page/', import.meta.url);
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

let doublure;
let site;
let siteUrl;
let browser;

before(async () => {
  doublure = await start();
  // The page's own origin, so its calls to doublure are cross-origin, as
  // a front end's calls to its API are.
  site = createServer(async (request, response) => {
    const name = new URL(request.url, 'http://x').pathname.slice(1) || 'index.html';
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (!type || name.includes('/')) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': type }).end(await readFile(new URL(name, PAGE)));
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${site.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  site?.closeAllConnections();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  await doublure?.stop();
});

beforeEach(async () => {
  await doublure.reset();
});

async function openPage() {
  const page = await browser.newPage();
  await page.goto(`${siteUrl}/?api=${encodeURIComponent(doublure.url)}`);
  return page;
}

test('the page lists the users doublure serves, fetched by the browser', async () => {
  const page = await openPage();
  await page.getByText('48 débatteurs').waitFor();
  assert.deepEqual(await page.locator('#users li').allTextContents(), [
    'Aurélie Legrand (Tours)',
    'Alice Boyer (Orléans)',
    'Olivier Moreau (Besançon)',
    'Théo Nicolas (Clermont-Ferrand)',
    'Inès Muller (Grenoble)',
  ]);
  const [call] = await doublure.requests({ path: '/api/v1/users', method: 'GET' });
  assert.equal(call.status, 200);
  assert.deepEqual(call.headers.find(([name]) => name === 'origin'), ['origin', siteUrl]);
});

test('a fault set by the test shows as an outage, and the page recovers', async () => {
  await doublure.fault({ path: '/api/v1/users', status: 503, count: 1 });
  const page = await openPage();
  await page.getByText('Logora est indisponible (503)').waitFor();
  await page.getByRole('button', { name: 'Recharger' }).click();
  await page.getByText('48 débatteurs').waitFor();
  assert.deepEqual((await doublure.requests({ path: '/api/v1/users', method: 'GET' })).map((e) => e.status), [503, 200]);
});

test("the page's outage switch fails one call with the X-Doublure-Fault header", async () => {
  const page = await openPage();
  await page.getByText('48 débatteurs').waitFor();
  await page.getByLabel('Simuler une panne de Logora').check();
  await page.getByRole('button', { name: 'Recharger' }).click();
  await page.getByText('Logora est indisponible (503)').waitFor();
  const [, refused] = await doublure.requests({ path: '/api/v1/users', method: 'GET' });
  assert.equal(refused.status, 503);
  assert.deepEqual(refused.headers.find(([name]) => name === 'x-doublure-fault'), ['x-doublure-fault', 'status=503']);
});
