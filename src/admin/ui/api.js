// Calls to the control plane that serves this page. Every address is
// relative to where the page is, so the console works unchanged under a
// namespace prefix (/__ns/{name}/__doublure/ui/), and every call is
// same-origin.

const UI = '/__doublure/ui/';
const at = location.pathname.lastIndexOf(UI);
// '' at the top, '/__ns/demo' in a namespace.
export const base = at >= 0 ? location.pathname.slice(0, at) : '';
// The server's own control plane, before any namespace.
export const root = base.includes('/__ns/') ? base.slice(0, base.indexOf('/__ns/')) : base;

const KEY = 'doublure.admin-token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

// Told when a call is refused for want of the admin token.
let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

// A refused call (status and parsed body), or no answer at all (status 0).
export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body === 'object' && body?.error ? body.error : status ? `HTTP ${status}` : 'doublure does not answer');
    this.status = status;
    this.body = body;
  }
}

// fetch, with "no answer" as an ApiError like any refusal.
async function send(address, init) {
  try {
    return await fetch(address, init);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new ApiError(0, null);
  }
}

function headers(extra = {}) {
  const all = {...extra};
  const secret = token.get();
  if (secret) all.authorization = `Bearer ${secret}`;
  return all;
}

// call('POST', '/__doublure/faults', {...}) → the parsed JSON answer, or
// throws an ApiError with the status and the parsed error body.
export async function call(method, path, body, {top = false} = {}) {
  const init = {method, headers: headers(), cache: 'no-store'};
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await send((top ? root : base) + path, init);
  const text = await response.text();
  let parsed = text;
  if ((response.headers.get('content-type') || '').includes('json') && text) parsed = JSON.parse(text);
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, parsed);
  return text ? parsed : null;
}

// The raw answer, for downloads.
export async function fetchBlob(path) {
  const response = await send(base + path, {headers: headers(), cache: 'no-store'});
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, null);
  return response.blob();
}

// Reads a server-sent events stream with fetch, since EventSource cannot
// send the admin token. Calls onOpen() once connected, then
// onEvent({event, id, data}) per event; ends when the server ends the
// stream or `signal` aborts it.
export async function stream(path, lastId, onEvent, signal, onOpen = () => {}) {
  const extra = {accept: 'text/event-stream'};
  if (lastId !== null) extra['last-event-id'] = String(lastId);
  const response = await send(base + path, {headers: headers(extra), cache: 'no-store', signal});
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, null);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = {event: 'message', id: null, data: []};
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r?\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === '') {
        if (event.data.length) onEvent({...event, data: event.data.join('\n')});
        event = {event: 'message', id: event.id, data: []};
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data.push(text);
      else if (field === 'event') event.event = text;
      else if (field === 'id') event.id = text;
    }
  }
}
