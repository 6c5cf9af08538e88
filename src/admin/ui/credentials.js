// Credentials without the protocol dance: Logora tokens minted, listed and
// revoked, and w.c.s. URLs signed at the emulated time.

import {base, call} from './api.js';
import {$, h, copyable, explain, shellQuote as quote, toast} from './dom.js';
import {emulatedNow} from './clock.js';


function until(seconds) {
  const left = Math.round(seconds - emulatedNow() / 1000);
  if (left <= 0) return 'now';
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  return hours ? `in ${hours} h ${minutes} min` : minutes ? `in ${minutes} min` : `in ${left} s`;
}

let shown = null;

export async function refreshTokens() {
  const {tokens} = await call('GET', '/__doublure/logora/tokens');
  // Unchanged tokens keep their rows (and a keyboard user's focus); the
  // time left is read again each minute.
  const text = JSON.stringify([tokens, Math.floor(emulatedNow() / 60000)]);
  if (text === shown) return;
  shown = text;
  $('token-rows').replaceChildren(...tokens.map((t) => h('tr', {},
    h('td', {}, h('code', {title: t.access_token}, `${t.access_token.slice(0, 10)}…`)),
    h('td', {}, t.client_id),
    h('td', {}, t.scope),
    h('td', {title: new Date(t.expires_at * 1000).toISOString()}, until(t.expires_at)),
    h('td', {}, h('button', {type: 'button', class: 'small', 'aria-label': `Revoke the token ${t.access_token.slice(0, 10)}…`, onclick: () => revoke(t.access_token)}, 'Revoke')))));
  $('tokens-empty').hidden = tokens.length > 0;
}

async function revoke(token) {
  try {
    await call('DELETE', `/__doublure/logora/tokens/${encodeURIComponent(token)}`);
    await refreshTokens();
    toast('Token revoked: the API now answers "The access token was revoked"');
  } catch (error) {
    toast(explain(error), true);
  }
}

// The choices of the two forms come from the data, which reset or an
// edit may change.
export async function refreshChoices() {
  const [clients, accesses, users] = await Promise.all([
    call('GET', '/__doublure/logora/clients'),
    call('GET', '/__doublure/wcs/api_accesses'),
    call('GET', '/__doublure/wcs/users'),
  ]);
  const fill = (select, values) => {
    const kept = select.value;
    select.replaceChildren(...values.map((v) => h('option', {value: v}, v)));
    if (values.includes(kept)) select.value = kept;
  };
  fill($('mint-client'), clients.map((c) => c.client_id));
  fill($('sign-orig'), accesses.map((a) => a.access_identifier));
  $('sign-users').replaceChildren(...users.filter((u) => u.email).map((u) => h('option', {value: u.email}, u.name || u.email)));
  // Usable once there is a client and an orig to choose.
  $('mint-button').disabled = !clients.length;
  $('sign-button').disabled = !accesses.length;
}

export function init() {
  $('mint-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('mint-error').textContent = '';
    const scope = $('mint-scope').value.trim();
    try {
      const minted = await call('POST', '/__doublure/logora/tokens', {client_id: $('mint-client').value, scope: scope || undefined});
      const url = `${location.origin}${base}/api/v1/users`;
      $('minted').hidden = false;
      $('minted').replaceChildren(
        copyable('Token', minted.access_token),
        copyable('curl', `curl -H ${quote(`Authorization: Bearer ${minted.access_token}`)} ${quote(url)}`),
        h('p', {class: 'hint'}, `Valid ${minted.expires_in} s of the emulated clock, scope ${minted.scope}.`));
      await refreshTokens();
    } catch (error) {
      $('mint-error').textContent = explain(error);
    }
  });
  $('sign-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('sign-error').textContent = '';
    const email = $('sign-email').value.trim();
    try {
      const {url} = await call('POST', '/__doublure/wcs/sign', {url: $('sign-path').value.trim(), orig: $('sign-orig').value, email: email || undefined});
      $('signed').hidden = false;
      $('signed').replaceChildren(
        copyable('URL', url),
        copyable('curl', `curl -s ${quote(url)}`),
        h('p', {class: 'hint'}, 'Valid 30 s of the emulated clock, and once: its nonce is spent by the first call.'));
    } catch (error) {
      $('sign-error').textContent = explain(error);
    }
  });
}
