// The console's entry point: views and panels, the admin token, reset,
// export, namespaces, and what refreshes when.

import {base, root, call, fetchBlob, token, whenUnauthorized} from './api.js';
import {$, h, tabs, toast, explain} from './dom.js';
import * as journal from './journal.js';
import * as faults from './faults.js';
import * as clock from './clock.js';
import * as credentials from './credentials.js';
import * as data from './data.js';

const namespace = base ? decodeURIComponent(base.slice(base.lastIndexOf('/') + 1)) : null;
if (namespace) {
  $('where').textContent = `namespace ${namespace}`;
  document.title = `${namespace} · doublure console`;
}

let locked = false;
let dataShown = false;
let credentialsShown = false;

// A refused background refresh is shown; no answer is not (the journal's
// badge already says it is reconnecting), nor a missing token (the token
// dialog is open).
const quietly = (promise) => promise.catch((error) => {
  const text = explain(error);
  if (error.status !== 0 && error.status !== 401) toast(text, true);
});

async function namespaces() {
  const list = $('namespace-list');
  const here = namespace ? [h('li', {}, h('a', {href: `${root}/__doublure/ui/`}, 'The server\'s own data (no namespace)'))] : [];
  try {
    const {namespaces: all} = await call('GET', '/__doublure/namespaces', undefined, {top: true});
    list.replaceChildren(...here, ...all.map((n) => h('li', {'aria-current': n.name === namespace ? 'page' : null},
      h('a', {href: `${root}/__ns/${encodeURIComponent(n.name)}/__doublure/ui/`}, n.name),
      h('span', {class: 'muted'}, ` · ${n.requests} calls, last used ${n.last_used}`))));
    if (!all.length && !here.length) list.replaceChildren(h('li', {class: 'muted'}, 'No namespace yet: the first call under /__ns/{name}/ makes one.'));
  } catch (error) {
    if (error.status !== 404) throw error;
    list.replaceChildren(...here, h('li', {class: 'muted'}, 'namespaces: not available on this server'));
  }
}

const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

async function memory() {
  try {
    const m = await call('GET', '/__doublure/memory', undefined, {top: true});
    $('memory').textContent = `${mib(m.used_bytes)} of ${mib(m.budget_bytes)} used: journals ${mib(m.journal_bytes)}, `
      + `nonces ${mib(m.nonce_bytes)}, caches ${mib(m.cache_bytes)}, data ${mib(m.data_bytes)}, ${m.streams} of ${m.max_streams} streams (${mib(m.stream_bytes)}); `
      + `${m.refused_calls} calls refused with 503`;
  } catch (error) {
    if (error.status !== 404) throw error;
    $('memory').textContent = 'memory: not available on this server';
  }
}

function refreshLive() {
  return Promise.all([clock.refresh(), faults.refresh(), credentials.refreshTokens()]);
}

// Collections load only once their view is shown: generated data can
// make them long.
function refreshAll() {
  const all = [refreshLive(), namespaces(), memory()];
  if (credentialsShown) all.push(credentials.refreshChoices());
  if (dataShown) all.push(data.refresh());
  return quietly(Promise.all(all));
}

// Calls change rule counts, tokens and maybe the clock: read them again,
// at most four times a second however busy the APIs are.
let throttle = null;
journal.onEntry(() => {
  throttle ??= setTimeout(() => {
    throttle = null;
    if (!locked) quietly(refreshLive());
  }, 250);
});
clock.onMove(() => quietly(credentials.refreshTokens()));
data.onChange(() => {
  if (credentialsShown) quietly(credentials.refreshChoices());
});
// Other clients change rules and the clock through the control plane,
// which the journal does not record.
setInterval(() => {
  if (!locked && !document.hidden) quietly(refreshLive());
}, 3000);

async function start() {
  try {
    await clock.refresh();
  } catch (error) {
    if (error.status !== 401) toast(explain(error), true);
    return;
  }
  journal.connect();
  refreshAll();
}

function askToken() {
  const dialog = $('token-dialog');
  if (!dialog.open) dialog.showModal();
  $('token-input').focus();
}

whenUnauthorized(() => {
  if (locked) return;
  locked = true;
  token.clear();
  $('locked').hidden = false;
  $('token-button').hidden = false;
  askToken();
});

$('token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const value = $('token-input').value.trim();
  if (!value) {
    $('token-error').textContent = 'Type the token doublure was started with (--admin-token).';
    return;
  }
  token.set(value);
  locked = false;
  try {
    await clock.refresh();
  } catch (error) {
    $('token-error').textContent = error.status === 401 ? 'This token is refused.' : explain(error);
    return;
  }
  $('token-error').textContent = '';
  $('token-input').value = '';
  $('token-dialog').close();
  $('locked').hidden = true;
  start();
});
$('token-cancel').addEventListener('click', () => $('token-dialog').close());
$('token-button').addEventListener('click', askToken);
$('locked-button').addEventListener('click', askToken);

$('reset').addEventListener('click', () => $('reset-dialog').showModal());
$('reset-cancel').addEventListener('click', () => $('reset-dialog').close());
$('reset-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('reset-dialog').close();
  try {
    await call('POST', '/__doublure/reset');
    journal.clearRows();
    data.idle();
    await refreshAll();
    toast('Reset: data, tokens, journal, faults and clock are back to the loaded fixtures');
  } catch (error) {
    toast(explain(error), true);
  }
});

$('export').addEventListener('click', async () => {
  try {
    const blob = await fetchBlob('/__doublure/state');
    const link = h('a', {href: URL.createObjectURL(blob), download: `doublure-state${namespace ? `-${namespace}` : ''}.json`});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    toast(explain(error), true);
  }
});

// The data view reads its collection again each time it is shown: other
// clients may have changed it.
tabs($('views'), (id) => {
  if (id === 'tab-data') {
    dataShown = true;
    quietly(data.refresh());
  }
});
tabs($('panels'), (id) => {
  if (id === 'tab-credentials' && !credentialsShown) {
    credentialsShown = true;
    quietly(credentials.refreshChoices());
  }
});

journal.init();
faults.init();
clock.init();
credentials.init();
data.init();
start();
