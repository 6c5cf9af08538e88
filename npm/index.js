// doublure for JavaScript: start the doublure binary on a free port, or
// connect to a running one, and arrange it from tests through its control
// plane (`/__doublure/`). Every method of a handle is one fetch() call; a
// namespace's handle sends them under `/__ns/{name}/`.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findBinary } from './lib/binary.js';

export { findBinary } from './lib/binary.js';

const LISTENING = /doublure listening on (https?:\/\/[^\s"]+)/;
// Enough output to explain a failure, bounded for a long-lived server that
// logs every refused call.
const KEPT_LINES = 200;
const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/;

/** Anything that went wrong talking to, or starting, a doublure server. */
export class DoublureError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** The binary could not be found, or did not start; `output` holds what it wrote. */
export class StartError extends DoublureError {
  constructor(message, { exitCode = null, output = '' } = {}) {
    super(message);
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** A server did not answer its health check at `url`. */
export class UnhealthyError extends DoublureError {
  constructor(message, { url }) {
    super(message);
    this.url = url;
  }
}

/** The control plane refused a call: `status`, its `message`, `problems` and the decoded `body`. */
export class ControlPlaneError extends DoublureError {
  constructor({ method, url, status, message, problems = [], body = null }) {
    const list = problems.length ? '\n' + problems.map((p) => `  ${p}`).join('\n') : '';
    super(`${method} ${url} answered ${status}: ${message}${list}`);
    Object.assign(this, { method, url, status, problems, body });
    this.detail = message;
  }
}

/**
 * Runs the doublure binary on 127.0.0.1:0 and resolves once it is healthy.
 * @param {import('./index.js').StartOptions} [options]
 */
export async function start(options = {}) {
  const {
    fixtures,
    binary,
    env,
    startupTimeout = 30_000,
    timeout = 30_000,
    adminToken,
    listen,
    logLevel,
    ...flags
  } = options;
  let executable;
  try {
    executable = findBinary(binary);
  } catch (error) {
    throw new StartError(error.message);
  }
  const childEnv = { ...process.env, ...env };
  // Through the environment, so the secret shows neither in `ps` nor in an error.
  if (adminToken != null) childEnv.DOUBLURE_ADMIN_TOKEN = String(adminToken);
  const token = adminToken ?? (childEnv.DOUBLURE_ADMIN_TOKEN || undefined);
  // The address is read from an info line of doublure::startup: keep that
  // module at info whatever level the caller chose for the rest.
  const level = logLevel ?? (childEnv.DOUBLURE_LOG_LEVEL || 'info');
  // With TLS, the CA is kept in a folder of the handle's (removed by
  // stop()) unless one is named, so that it is a file as well as a PEM.
  let ownCaDir;
  if (flags.tls && !flags.tlsCert && flags.tlsCaDir == null) {
    ownCaDir = mkdtempSync(join(tmpdir(), 'doublure-ca-'));
    flags.tlsCaDir = ownCaDir;
  }
  const args = [
    '--listen',
    listen ?? '127.0.0.1:0',
    ...toFlags({ fixtures, ...flags, logLevel: `${level},doublure::startup=info` }),
  ];
  let child;
  try {
    child = await Child.spawn(executable, args, childEnv, startupTimeout);
  } catch (error) {
    if (ownCaDir) rmSync(ownCaDir, { recursive: true, force: true });
    throw error;
  }
  const caFile = flags.tlsCaDir != null && flags.tls ? join(String(flags.tlsCaDir), 'ca.pem') : undefined;
  const handle = new Doublure(child.url, {
    adminToken: token,
    timeout,
    child,
    caFile,
    caPem: caFile ? readFileSync(caFile, 'utf8') : undefined,
    ownCaDir,
  });
  try {
    await handle.checkHealth();
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/**
 * A handle on a server that is already running, once it answers its health check.
 * @param {string} url
 * @param {import('./index.js').ConnectOptions} [options]
 */
export async function connect(url, { adminToken, timeout = 30_000, caFile } = {}) {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw new TypeError(`connect: ${JSON.stringify(url)} is not an http:// or https:// URL`);
  }
  const handle = new Doublure(url, {
    adminToken: adminToken ?? (process.env.DOUBLURE_ADMIN_TOKEN || undefined),
    timeout,
    caFile,
    caPem: caFile ? readFileSync(caFile, 'utf8') : undefined,
  });
  await handle.checkHealth();
  return handle;
}

/** `generateLogoraUsers: 1000` becomes `--generate-logora-users 1000`. */
export function toFlags(options) {
  const args = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === null) continue;
    if (!/^[a-z][A-Za-z0-9]*$/.test(key)) {
      throw new TypeError(`option ${JSON.stringify(key)} is not a doublure flag name in camelCase (see doublure --help)`);
    }
    args.push('--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
    if (typeof value === 'boolean') args.push(value ? 'true' : 'false');
    else if (Array.isArray(value)) args.push(value.join(','));
    else args.push(String(value));
  }
  return args;
}

/** A handle on a doublure server, or on one of its namespaces. */
export class Doublure {
  #url;
  #adminToken;
  #timeout;
  #child;
  #root;
  #name;
  #caFile;
  #caPem;
  #ownCaDir;
  #dispatcher;

  /**
   * Prefer start(), connect() and namespace(); this makes a handle without
   * checking that anything answers.
   */
  constructor(url, { adminToken, timeout = 30_000, child, root, name, caFile, caPem, ownCaDir } = {}) {
    this.#url = String(url).replace(/\/+$/, '');
    this.#adminToken = adminToken;
    this.#timeout = timeout;
    this.#child = child;
    this.#root = root;
    this.#name = name;
    this.#caFile = caFile;
    this.#caPem = caPem;
    this.#ownCaDir = ownCaDir;
  }

  /** With `tls: true`, the CA to trust as a PEM string (else null). */
  get caPem() {
    return this.#caPem ?? null;
  }

  /** With `tls: true`, the CA's PEM file, for NODE_EXTRA_CA_CERTS or a child process (else null). */
  get caFile() {
    return this.#caFile ?? null;
  }

  /**
   * An undici `Agent` trusting the CA, for `fetch(url, { dispatcher })`
   * (undici's own fetch, or Node's with a matching undici), made on the
   * first call. Needs the `undici` package.
   */
  async dispatcher() {
    if (!this.#caPem) throw new DoublureError('dispatcher() is for a server started with tls: true (or connected with caFile)');
    if (!this.#dispatcher) {
      let undici;
      try {
        undici = await import('undici');
      } catch {
        throw new DoublureError('dispatcher() needs the undici package: npm install undici');
      }
      this.#dispatcher = new undici.Agent({ connect: { ca: this.#caPem } });
    }
    return this.#dispatcher;
  }

  /** The base URL the emulated APIs answer at (a namespace's includes `/__ns/<name>`). */
  get url() {
    return this.#url;
  }

  /** The namespace's name, or null on the server's own handle. */
  get name() {
    return this.#name ?? null;
  }

  /** The last lines the started process wrote (empty for a connected server). */
  get output() {
    return this.#child ? this.#child.output() : '';
  }

  toString() {
    return `Doublure(${this.#name ? `namespace ${this.#name} ` : ''}at ${this.#url})`;
  }

  /** A handle on the namespace `name`, served at `<url>/__ns/<name>`. */
  namespace(name) {
    if (this.#root) {
      throw new DoublureError(
        `namespaces do not nest: call namespace(${JSON.stringify(name)}) on the server's handle, not on namespace ${JSON.stringify(this.#name)}`,
      );
    }
    if (typeof name !== 'string' || !NAMESPACE.test(name) || name === '.' || name === '..') {
      throw new TypeError(
        `namespace name ${JSON.stringify(name)}: use 1 to 64 characters among A-Z a-z 0-9 . _ - (and not '.' or '..')`,
      );
    }
    return new Doublure(`${this.#url}/__ns/${name}`, {
      adminToken: this.#adminToken,
      timeout: this.#timeout,
      root: this,
      name,
      caFile: this.#caFile,
      caPem: this.#caPem,
    });
  }

  /**
   * Calls `/__doublure/<path>` of this handle; the decoded JSON answer, or null.
   * Throws a ControlPlaneError on an error status.
   */
  async control(method, path, body, { query } = {}) {
    return this.#call(method, `${this.#url}/__doublure/${String(path).replace(/^\/+/, '')}`, body, query);
  }

  async #call(method, url, body, query) {
    method = method.toUpperCase();
    if (query) {
      const pairs = Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)]);
      if (pairs.length) url += '?' + new URLSearchParams(pairs).toString();
    }
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#adminToken) headers.authorization = `Bearer ${this.#adminToken}`;
    let response;
    let text;
    try {
      const init = {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeout),
      };
      // Node's fetch takes no CA; node:https does, with no dependency.
      response = this.#caPem && url.startsWith('https:') ? await trusting(url, init, this.#caPem) : await fetch(url, init);
      text = await response.text();
    } catch (error) {
      const reason = error.cause?.code ?? error.cause?.message ?? error.message;
      throw new DoublureError(`cannot reach doublure at ${url}: ${reason}`);
    }
    let decoded = null;
    let isJson = false;
    if (text) {
      try {
        decoded = JSON.parse(text);
        isJson = true;
      } catch {
        decoded = text;
      }
    }
    if (response.ok) return decoded;
    const message =
      isJson && typeof decoded?.error === 'string'
        ? decoded.error
        : isJson
          ? JSON.stringify(decoded)
          : text.trim() || response.statusText;
    throw new ControlPlaneError({
      method,
      url,
      status: response.status,
      message,
      problems: isJson && Array.isArray(decoded?.problems) ? decoded.problems.map(String) : [],
      body: isJson ? decoded : null,
    });
  }

  /** @internal Throws an UnhealthyError naming the URL unless health answers ok. */
  async checkHealth() {
    const url = `${this.#url}/__doublure/health`;
    let answer;
    try {
      answer = await this.#call('GET', url);
    } catch (error) {
      throw new UnhealthyError(`doublure at ${this.#url} is not healthy: ${error.message}`, { url });
    }
    if (answer?.status !== 'ok') {
      throw new UnhealthyError(`doublure at ${this.#url} is not healthy: ${url} answered ${JSON.stringify(answer)}`, {
        url,
      });
    }
  }

  /** Back to the loaded fixtures: data, tokens, nonces, journal, faults and clock. */
  async reset() {
    await this.control('POST', 'reset');
  }

  /** The emulated time: `{now, frozen}`. */
  async clock() {
    return this.control('GET', 'clock');
  }

  /**
   * Sets the emulated time (a Date or an RFC 3339 string) and freezes it,
   * unless `frozen: false`; with `now` null, only freezes or unfreezes.
   */
  async setClock(now, { frozen = true } = {}) {
    const body = { frozen: Boolean(frozen) };
    if (now !== undefined && now !== null) body.now = instant(now, 'setClock');
    return this.control('PUT', 'clock', body);
  }

  /** Moves the emulated clock by `seconds` (negative goes back). */
  async advance(seconds) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
      throw new TypeError(`advance: seconds must be a finite number, not ${JSON.stringify(seconds)}`);
    }
    return this.control('POST', 'clock/advance', { seconds });
  }

  /** A Logora access token, as /oauth/token would issue. */
  async token({ clientId = 'API_KEY', scope = 'public' } = {}) {
    return (await this.control('POST', 'logora/tokens', { client_id: clientId, scope })).access_token;
  }

  /**
   * A w.c.s. URL signed at the emulated time (valid 30 s, once). A path is
   * made absolute with this handle's url, so a namespace's URL reaches it.
   */
  async sign(url, { orig = 'demo', email, nameId, key } = {}) {
    if (email != null && nameId != null) throw new TypeError('sign: give email or nameId, not both');
    const body = { url: url.startsWith('/') ? this.#url + url : url, orig };
    if (email != null) body.email = email;
    if (nameId != null) body.name_id = nameId;
    if (key != null) body.key = key;
    return (await this.control('POST', 'wcs/sign', body)).url;
  }

  /** Adds a fault rule (`{path, status, count, latency_ms, …}`); resolves to its id. */
  async fault(rule) {
    if (!rule || typeof rule !== 'object' || Object.keys(rule).length === 0) {
      throw new TypeError("fault: give the rule, e.g. fault({ path: '/api/v1/users', status: 503 })");
    }
    return (await this.control('POST', 'faults', rule)).id;
  }

  /** Journal entries, oldest first, filtered by `{path, method, status, since, after, limit}`. */
  async requests(filters = {}) {
    return (await this.control('GET', 'requests', undefined, { query: filters })).requests;
  }

  /** The server's namespaces: `{name, created, last_used, requests}`. */
  async namespaces() {
    return (await (this.#root ?? this).control('GET', 'namespaces')).namespaces;
  }

  /** Drops this namespace and its state; resolves to false when there was none by that name. */
  async drop() {
    if (!this.#root) throw new DoublureError("drop() is for a namespace's handle; stop() ends a server");
    try {
      await this.#root.control('DELETE', `namespaces/${this.#name}`);
      return true;
    } catch (error) {
      // An unknown namespace is a JSON 404; a server without namespaces
      // answers a plain "Not Found", which is no "gone".
      if (error instanceof ControlPlaneError && error.status === 404 && error.body !== null) return false;
      throw error;
    }
  }

  /**
   * Stops the process start() ran (SIGTERM, then SIGKILL after 10 s) and
   * resolves to its exit code; does nothing on other handles.
   */
  async stop() {
    if (!this.#child) return null;
    const status = await this.#child.stop();
    if (this.#ownCaDir) {
      rmSync(this.#ownCaDir, { recursive: true, force: true });
      this.#ownCaDir = undefined;
    }
    await this.#dispatcher?.close();
    return status;
  }
}

/** A fetch-like call through node:https trusting `ca`: `ok`, `status`, `statusText`, `text()`. */
function trusting(url, { method, headers, body, signal }, ca) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca, signal }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          ok: res.statusCode >= 200 && res.statusCode < 300,
          status: res.statusCode,
          statusText: res.statusMessage,
          text: async () => text,
        });
      });
    });
    req.on('error', (error) => reject(Object.assign(new Error(error.message), { cause: error })));
    req.end(body);
  });
}

function instant(value, what) {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError(`${what}: invalid Date`);
    return value.toISOString();
  }
  if (typeof value === 'string') return value;
  throw new TypeError(`${what}: expected a Date or an RFC 3339 string, not ${JSON.stringify(value)}`);
}

// Started servers still running, killed when Node exits.
const live = new Set();
let exitHookInstalled = false;

/** A doublure child process, its address, and the tail of its output. */
class Child {
  #process;
  #lines = [];
  #exited;

  static spawn(executable, args, env, startupTimeout) {
    return new Promise((resolve, reject) => {
      const child = new Child();
      const proc = spawn(executable, args, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      child.#process = proc;
      let settled = false;
      const fail = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      // 'close' comes after the last line of output has been read.
      child.#exited = new Promise((done) => proc.once('close', (code, signal) => done(code ?? signal)));
      const streams = ['stderr', 'stdout'].map(
        (name) =>
          new Promise((done) => {
            const lines = createInterface({ input: proc[name], crlfDelay: Infinity });
            lines.on('line', (line) => {
              child.#keep(name, line);
              const found = !settled && LISTENING.exec(line);
              if (found) {
                settled = true;
                clearTimeout(timer);
                child.url = found[1].replace(/^(https?):\/\/0\.0\.0\.0:/, '$1://127.0.0.1:').replace('://[::]:', '://[::1]:');
                child.#detach();
                resolve(child);
              }
            });
            lines.on('close', done);
          }),
      );
      proc.once('error', (error) => fail(new StartError(`cannot run ${executable}: ${error.message}`)));
      proc.once('exit', async (code, signal) => {
        if (settled) return;
        await Promise.all(streams);
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        const output = child.output();
        fail(
          new StartError(`doublure ${how} before listening${output ? ':\n' + output : ' (it wrote nothing)'}`, {
            exitCode: code,
            output,
          }),
        );
      });
      const timer = setTimeout(async () => {
        if (settled) return;
        settled = true;
        await child.stop();
        const output = child.output();
        reject(
          new StartError(
            `doublure did not report its address within ${startupTimeout / 1000} s${output ? ':\n' + output : ' (it wrote nothing)'}`,
            { output },
          ),
        );
      }, startupTimeout);
    });
  }

  #keep(stream, line) {
    this.#lines.push([stream, line]);
    if (this.#lines.length > KEPT_LINES) this.#lines.shift();
  }

  // Once listening, the server must not keep Node alive on its own: a test
  // runner that forgot stop() still exits, and takes the server with it.
  #detach() {
    this.#process.unref();
    this.#process.stdout.unref?.();
    this.#process.stderr.unref?.();
    live.add(this.#process);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // One listener for every server (not one each, which Node would warn
      // about past ten); 'exit' handlers cannot wait, so no grace period.
      process.once('exit', () => {
        for (const child of live) child.kill('SIGKILL');
      });
    }
  }

  /** Standard error's lines, then standard output's. */
  output() {
    const pick = (name) => this.#lines.filter(([s]) => s === name).map(([, l]) => l);
    return [...pick('stderr'), ...pick('stdout')].join('\n');
  }

  async stop(graceMs = 10_000) {
    const proc = this.#process;
    live.delete(proc);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      let timer;
      const killed = new Promise((done) => {
        timer = setTimeout(() => {
          proc.kill('SIGKILL');
          done();
        }, graceMs);
      });
      await Promise.race([this.#exited, killed]);
      clearTimeout(timer);
    }
    await this.#exited;
    return proc.exitCode ?? proc.signalCode;
  }
}
