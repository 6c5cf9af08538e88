// The live journal: rows arrive through /__doublure/requests/stream, are
// filtered here, and the list holds its place unless it is already at the
// newest call.

import {base, call, stream} from './api.js';
import {$, h, copy, explain, shellQuote as quote, toast} from './dom.js';

const MAX_ROWS = 2000;
const rows = new Map(); // id → {entry, tr}
let lastId = null;
let selected = null;
let unseen = 0;
let queue = [];
let flushTimer = null;
let controller = null;
const listeners = [];

// Called with each new entry (the other panels refresh on calls).
export function onEntry(listener) {
  listeners.push(listener);
}

export function apiOf(path) {
  if (path.startsWith('/oauth/') || path === '/api/v1' || path.startsWith('/api/v1/')) return 'logora';
  if (path.startsWith('/api/') || path === '/user' || path.startsWith('/user/') || path.startsWith('/myspace/')) return 'wcs';
  return 'other';
}

// The journal records a dropped call with the status it would have had;
// its outcome says what happened.
const dropped = (entry) => /dropped the connection/.test(entry.outcome || '');
const statusClass = (entry) => (dropped(entry) ? 'dropped' : String(Math.floor(entry.status / 100)));

function shown(entry) {
  const api = $('journal-api').value;
  const status = $('journal-status').value;
  const path = $('journal-path').value.trim();
  return (!api || apiOf(entry.path) === api)
    && (!status || statusClass(entry) === status)
    && (!path || entry.path.includes(path));
}

// Headers curl sets itself.
const SKIPPED = new Set(['host', 'content-length', 'connection', 'user-agent', 'accept-encoding']);

export function curl(entry) {
  const prefix = base && !entry.path.startsWith(base + '/') ? base : '';
  const url = location.origin + prefix + entry.path + (entry.query ? `?${entry.query}` : '');
  const parts = ['curl'];
  // Every value is quoted: the method too, which a raw request may make
  // anything a token allows (backquotes and $ among them).
  if (entry.method === 'HEAD') parts.push('-I');
  else if (entry.method !== 'GET') parts.push('-X', quote(entry.method));
  for (const [name, value] of entry.headers) {
    if (SKIPPED.has(name)) continue;
    // The token itself was never kept; $TOKEN stands for it.
    if (name === 'authorization' && value === 'Bearer [redacted]') parts.push('-H', `"authorization: Bearer $TOKEN"`);
    else parts.push('-H', quote(`${name}: ${value}`));
  }
  parts.push(quote(url));
  return parts.join(' ');
}

function detail(entry) {
  const box = $('journal-detail');
  const command = curl(entry);
  const query = entry.query ? [...new URLSearchParams(entry.query)] : [];
  const table = (caption, pairs) => h('table', {class: 'pairs'},
    h('caption', {}, caption),
    h('tbody', {}, pairs.map(([name, value]) => h('tr', {}, h('th', {scope: 'row'}, name), h('td', {}, value)))));
  box.replaceChildren(
    h('h3', {}, `${entry.method} ${entry.path} → ${dropped(entry) ? 'dropped' : entry.status}`,
      h('span', {class: 'muted'}, ` · ${entry.time} · ${entry.duration_ms} ms`)),
    h('p', {class: 'outcome'}, entry.outcome || 'No outcome recorded.'),
    h('div', {class: 'copyable'},
      h('code', {'data-testid': 'journal-curl'}, command),
      h('button', {type: 'button', onclick: (e) => copy(command, e.currentTarget)}, 'Copy as curl')),
    h('p', {class: 'hint'}, 'The journal keeps no body and no secret: add the body with -d, set TOKEN, replace [redacted].'),
    h('div', {class: 'columns'},
      query.length ? table('Query (secrets redacted)', query) : h('p', {class: 'muted'}, 'No query.'),
      table('Headers (secrets redacted)', entry.headers)));
}

function select(id, focus = false) {
  const previous = rows.get(selected);
  if (previous) {
    previous.tr.classList.remove('selected');
    previous.tr.setAttribute('aria-selected', 'false');
    previous.tr.tabIndex = -1;
  }
  const row = rows.get(id);
  if (!row) return;
  selected = id;
  row.tr.classList.add('selected');
  row.tr.setAttribute('aria-selected', 'true');
  row.tr.tabIndex = 0;
  if (focus) row.tr.focus();
  detail(row.entry);
}

function render(entry) {
  const kind = statusClass(entry);
  return h('tr', {'data-testid': 'journal-row', 'data-id': entry.id, tabindex: '-1', 'aria-selected': 'false'},
    h('td', {class: 'time', title: entry.time}, entry.time.slice(11, 23)),
    h('td', {class: 'method'}, entry.method),
    h('td', {class: 'path', title: entry.query ? `${entry.path}?${entry.query}` : entry.path},
      entry.path, entry.query ? h('span', {class: 'muted'}, '?…') : null),
    h('td', {}, h('span', {class: `status s${kind}`}, kind === 'dropped' ? 'dropped' : String(entry.status))),
    h('td', {class: 'num'}, entry.duration_ms < 10 ? entry.duration_ms.toFixed(1) : String(Math.round(entry.duration_ms))),
    h('td', {class: 'outcome'}, entry.outcome || '—'));
}

const scroller = () => $('journal-scroll');
const atBottom = () => {
  const s = scroller();
  return s.scrollHeight - s.scrollTop - s.clientHeight < 24;
};

function showJump() {
  const jump = $('journal-jump');
  jump.hidden = unseen === 0;
  jump.textContent = `↓ ${unseen} new call${unseen === 1 ? '' : 's'}`;
}

function flush() {
  flushTimer = null;
  const batch = queue;
  queue = [];
  const follow = atBottom();
  const body = $('journal-rows');
  const fragment = document.createDocumentFragment();
  for (const entry of batch) {
    const tr = render(entry);
    tr.hidden = !shown(entry);
    if (!follow && !tr.hidden) unseen += 1;
    rows.set(entry.id, {entry, tr});
    fragment.append(tr);
  }
  body.append(fragment);
  for (const id of rows.keys()) {
    if (rows.size <= MAX_ROWS) break;
    rows.get(id).tr.remove();
    rows.delete(id);
  }
  $('journal-empty').hidden = rows.size > 0;
  if (follow) scroller().scrollTop = scroller().scrollHeight;
  showJump();
}

function receive(entry) {
  // Ids only grow; a smaller one means a new server (a restart).
  if (lastId !== null && entry.id <= lastId) clearRows();
  lastId = entry.id;
  queue.push(entry);
  flushTimer ??= setTimeout(flush, 16);
  for (const listener of listeners) listener(entry);
}

export function clearRows() {
  rows.clear();
  queue = [];
  selected = null;
  unseen = 0;
  $('journal-rows').replaceChildren();
  $('journal-empty').hidden = false;
  $('journal-detail').replaceChildren(h('p', {class: 'empty'}, 'Select a call (click, or Enter on a row) to see its headers, its query and a curl command.'));
  showJump();
}

function refilter() {
  for (const {entry, tr} of rows.values()) tr.hidden = !shown(entry);
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setState(text, kind) {
  const badge = $('stream-state');
  badge.textContent = text;
  badge.className = `badge ${kind}`;
}

// Follows the stream, reconnecting with the last id seen, until stopped
// or refused.
export async function connect() {
  controller?.abort();
  controller = new AbortController();
  const {signal} = controller;
  let delay = 500;
  while (!signal.aborted) {
    setState('connecting…', 'warn');
    try {
      let ended = null;
      await stream('/__doublure/requests/stream', lastId ?? 0, (event) => {
        if (event.event === 'request') receive(JSON.parse(event.data));
        // The ring moved past calls this console had not read yet.
        else if (event.event === 'lagged') toast(`${JSON.parse(event.data).skipped} calls left the journal before they were shown`, true);
        // The namespace was dropped: reconnecting would make a new one.
        else if (event.event === 'end') ended = JSON.parse(event.data).reason;
      }, signal, () => {
        setState('live', 'good');
        delay = 500;
      });
      if (ended !== null) {
        setState('ended', 'bad');
        toast(ended, true);
        return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!('status' in error)) explain(error);
      if (error.status === 401) {
        setState('locked', 'bad');
        return;
      }
    }
    setState('reconnecting…', 'warn');
    await wait(delay);
    delay = Math.min(delay * 2, 5000);
  }
}

export function init() {
  for (const id of ['journal-api', 'journal-status']) $(id).addEventListener('change', refilter);
  $('journal-path').addEventListener('input', refilter);
  $('journal-rows').addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    if (tr) select(Number(tr.dataset.id));
  });
  scroller().addEventListener('keydown', (e) => {
    const visible = [...rows.values()].filter((r) => !r.tr.hidden);
    if (!visible.length) return;
    const at = visible.findIndex((r) => r.entry.id === selected);
    const move = {ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity}[e.key];
    if (move !== undefined) {
      e.preventDefault();
      const next = at < 0 ? (move > 0 ? visible.length - 1 : 0) : Math.max(0, Math.min(visible.length - 1, at + move));
      select(visible[next].entry.id, true);
    } else if (e.key === 'Enter' && document.activeElement?.dataset.id) {
      select(Number(document.activeElement.dataset.id), true);
    }
  });
  scroller().addEventListener('scroll', () => {
    if (atBottom()) {
      unseen = 0;
      showJump();
    }
  });
  $('journal-jump').addEventListener('click', () => {
    scroller().scrollTop = scroller().scrollHeight;
    unseen = 0;
    showJump();
  });
  $('journal-clear').addEventListener('click', async () => {
    try {
      await call('DELETE', '/__doublure/requests');
      clearRows();
      toast('Journal emptied');
    } catch (error) {
      toast(explain(error), true);
    }
  });
}
