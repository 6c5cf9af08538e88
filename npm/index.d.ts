// Types of the doublure package (index.js).

/** Options of start(): these, then any doublure flag in camelCase (`generateLogoraUsers: 1000` is `--generate-logora-users 1000`). */
export interface StartOptions {
  /** A fixture directory to serve instead of the built-in data (`--fixtures`). */
  fixtures?: string;
  /** The executable to run; default: DOUBLURE_BINARY, then the @doublure/<os>-<arch> package, then a bundled one. */
  binary?: string;
  /** Environment variables added to this process's for the server. */
  env?: Record<string, string>;
  /** Milliseconds to wait for the server to listen (default 30000). */
  startupTimeout?: number;
  /** Milliseconds each control-plane call may take (default 30000). */
  timeout?: number;
  /** Required on the control plane; passed to the server through its environment. Default: DOUBLURE_ADMIN_TOKEN. */
  adminToken?: string;
  /** Address to listen on (default `127.0.0.1:0`, a free port). */
  listen?: string;
  /** Serve HTTPS (HTTP/2 and HTTP/1.1) with a certificate from a CA made for the run: `caPem`, `caFile`, `dispatcher()`. */
  tls?: boolean;
  /** More host names the certificate covers (`--tls-name`), e.g. `['app.logora.fr']`. */
  tlsName?: string | string[];
  /** Keep the CA in this folder (default: a temporary one, removed by stop()). */
  tlsCaDir?: string;
  publicUrl?: string;
  corsOrigin?: string | string[];
  logFormat?: 'text' | 'json';
  logLevel?: string;
  watch?: boolean;
  journalSize?: number;
  faultSeed?: number;
  faultHeader?: boolean;
  logoraTokenLifetime?: number;
  /** The Doorkeeper version Logora's OAuth answers follow (`--doorkeeper`). */
  doorkeeper?: '5.9.0' | '5.9.6';
  generateLogoraUsers?: number;
  generateWcsUsers?: number;
  generateFormsPerUser?: number;
  seed?: number;
  /** Flags added to doublure after this version of the types. */
  [flag: string]: string | number | boolean | string[] | Record<string, string> | undefined;
}

export interface ConnectOptions {
  /** Default: the DOUBLURE_ADMIN_TOKEN environment variable. */
  adminToken?: string;
  /** The CA (PEM file) to trust for an https:// server (`doublure tls ca --out FILE`). */
  caFile?: string;
  /** Milliseconds each control-plane call may take (default 30000). */
  timeout?: number;
}

/** The emulated clock. */
export interface Clock {
  /** RFC 3339, e.g. `2026-01-15T10:00:00Z`. */
  now: string;
  frozen: boolean;
}

/** A fault rule (POST /__doublure/faults). */
export interface FaultRule {
  method?: string;
  /** A path; a final `*` matches any path starting with the rest. */
  path?: string;
  client_id?: string;
  orig?: string;
  /** 400 to 599, answered with the API's own error body. */
  status?: number;
  retry_after?: number;
  latency_ms?: number;
  latency_max_ms?: number;
  drop?: boolean;
  probability?: number;
  count?: number;
}

export interface RequestFilters {
  /** Paths starting with this. */
  path?: string;
  method?: string;
  status?: number;
  /** At or after this instant of the emulated clock. */
  since?: Date | string;
  /** Entries with an id greater than this. */
  after?: number;
  /** At most this many, the most recent. */
  limit?: number;
}

/** One journal entry; see GET /__doublure/openapi.json for every field. */
export interface JournalEntry {
  id: number;
  time: string;
  method: string;
  path: string;
  /** The query string, secrets redacted. */
  query: string | null;
  /** Request headers as [name, value] pairs, secrets redacted. */
  headers: [string, string][];
  status: number;
  duration_ms: number;
  /** Why the request got its answer. */
  outcome: string | null;
  /** The protocol the request came in: "HTTP/1.1", "HTTP/2" or "HTTP/1.0". */
  http_version: string;
  [field: string]: unknown;
}

export interface NamespaceInfo {
  name: string;
  created: string;
  last_used: string;
  requests: number;
}

export interface SignOptions {
  /** The API access (default `demo`). */
  orig?: string;
  /** Act as the user with this e-mail address… */
  email?: string;
  /** …or with this NameID. */
  nameId?: string;
  /** The access's key; default: the one in the server's fixtures. */
  key?: string;
}

export interface TokenOptions {
  /** Default `API_KEY`. */
  clientId?: string;
  /** Default `public`. */
  scope?: string;
}

/** A handle on a doublure server, or on one of its namespaces. */
export declare class Doublure {
  /** Prefer start(), connect() and namespace(): this checks nothing. */
  constructor(url: string, options?: { adminToken?: string; timeout?: number });
  /** The base URL the emulated APIs answer at (a namespace's includes `/__ns/<name>`). */
  readonly url: string;
  /** The namespace's name, or null on the server's own handle. */
  readonly name: string | null;
  /** The last lines the started process wrote (empty for a connected server). */
  readonly output: string;
  /** With `tls: true` (or `connect(url, { caFile })`): the CA to trust, PEM; else null. */
  readonly caPem: string | null;
  /** With `tls: true`: the CA's PEM file (NODE_EXTRA_CA_CERTS for a child process); else null. */
  readonly caFile: string | null;
  /** An undici `Agent` trusting the CA, for `fetch(url, { dispatcher })`; needs the `undici` package. */
  dispatcher(): Promise<unknown>;
  /** A handle on the namespace `name` (1–64 of A-Z a-z 0-9 . _ -), served at `<url>/__ns/<name>`. */
  namespace(name: string): Doublure;
  /** Calls `/__doublure/<path>`; the decoded JSON answer, or null. */
  control(method: string, path: string, body?: unknown, options?: { query?: Record<string, unknown> }): Promise<any>;
  reset(): Promise<void>;
  clock(): Promise<Clock>;
  /** Sets the emulated time and freezes it unless `frozen: false`; `now` null keeps the time. */
  setClock(now: Date | string | null, options?: { frozen?: boolean }): Promise<Clock>;
  advance(seconds: number): Promise<Clock>;
  /** A Logora access token. */
  token(options?: TokenOptions): Promise<string>;
  /** A w.c.s. URL signed at the emulated time; a path is made absolute with `url`. */
  sign(url: string, options?: SignOptions): Promise<string>;
  /** Adds a fault rule; resolves to its id. */
  fault(rule: FaultRule): Promise<number>;
  requests(filters?: RequestFilters): Promise<JournalEntry[]>;
  namespaces(): Promise<NamespaceInfo[]>;
  /** Drops this namespace; false when the server had none by that name. */
  drop(): Promise<boolean>;
  /** Stops the process start() ran; its exit code (or the signal that ended it); null on other handles. */
  stop(): Promise<number | string | null>;
}

export declare class DoublureError extends Error {}
export declare class StartError extends DoublureError {
  readonly exitCode: number | null;
  readonly output: string;
}
export declare class UnhealthyError extends DoublureError {
  readonly url: string;
}
export declare class ControlPlaneError extends DoublureError {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The control plane's own message (`error` of its JSON body). */
  readonly detail: string;
  readonly problems: string[];
  /** The decoded JSON body, or null when the answer was not JSON. */
  readonly body: unknown;
}

/** Runs the doublure binary on 127.0.0.1:0 and resolves once it is healthy. */
export declare function start(options?: StartOptions): Promise<Doublure>;
/** A handle on a running server, once it answers its health check. */
export declare function connect(url: string, options?: ConnectOptions): Promise<Doublure>;
/** The doublure executable that start() and `npx doublure` run. */
export declare function findBinary(explicit?: string): string;
/** Options in camelCase as doublure's command-line flags. */
export declare function toFlags(options: Record<string, unknown>): string[];
