// The README's examples, run as written against the installed package.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installed, prefix, repo, run } from './helpers.mjs';

function blocks(section) {
  const text = readFileSync(join(installed, 'README.md'), 'utf8');
  const body = text.split(`\n## ${section}\n`)[1].split('\n## ')[0];
  return [...body.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, kind, code]) => ({ kind, code }));
}

test('the script prints what the README shows', async () => {
  const [script, shown] = blocks('In a script');
  assert.deepEqual([script.kind, shown.kind], ['js', 'text']);
  const result = await run(process.execPath, ['--input-type=module', '-e', script.code], { cwd: prefix });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, shown.code);
  assert.equal(result.status, 0);
});

test("the README's test passes under node --test", async () => {
  const [example] = blocks('In tests');
  const file = join(prefix, 'readme-example.test.mjs');
  writeFileSync(file, example.code);
  try {
    // Without the variable that tells a test file it runs under this test
    // runner: the inner run reports as a user's would.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const result = await run(process.execPath, ['--test', '--test-reporter=tap', file], { cwd: prefix, env });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^# pass 1$/m);
    assert.match(result.stdout, /^# fail 0$/m);
  } finally {
    rmSync(file);
  }
});

test("the README's container example is the example file's code", () => {
  const [example] = blocks('In a container (Testcontainers)');
  const file = readFileSync(join(repo(), 'examples', 'testcontainers', 'doublure-container.test.mjs'), 'utf8');
  assert.ok(file.includes(example.code), example.code);
});
