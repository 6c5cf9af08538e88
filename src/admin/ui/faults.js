// Fault rules: one-click presets, a form for any rule, and the list with
// the counts of each rule, refreshed as calls arrive.

import {call} from './api.js';
import {$, h, toast, explain} from './dom.js';

const PRESETS = {
  slow: {latency_ms: 800},
  503: {status: 503, count: 2},
  429: {status: 429, retry_after: 5, count: 1},
  drop: {drop: true, count: 1},
  flaky: {status: 503, probability: 0.25},
};

function when(rule) {
  const parts = [`${rule.method || 'any'} ${rule.path || 'any path'}`];
  if (rule.client_id) parts.push(`client ${rule.client_id}`);
  if (rule.orig) parts.push(`orig ${rule.orig}`);
  if (rule.probability !== undefined && rule.probability < 1) parts.push(`${Math.round(rule.probability * 1000) / 10} % of calls`);
  return parts.join(', ');
}

function then(rule) {
  const parts = [];
  if (rule.latency_ms !== undefined) {
    parts.push(rule.latency_max_ms ? `wait ${rule.latency_ms}–${rule.latency_max_ms} ms` : `wait ${rule.latency_ms} ms`);
  }
  if (rule.drop) parts.push('drop the connection');
  if (rule.status) parts.push(`answer ${rule.status}${rule.retry_after !== undefined ? `, Retry-After: ${rule.retry_after}` : ''}`);
  return parts.join(', then ');
}

let shown = null;

function render(rules) {
  // Unchanged rules keep their rows, and the focus a keyboard user has on
  // one of their buttons.
  const text = JSON.stringify(rules);
  if (text === shown) return;
  shown = text;
  $('fault-rows').replaceChildren(...rules.map((rule) => h('tr', {'data-rule': rule.id, class: rule.remaining === 0 ? 'spent' : null},
    h('td', {}, String(rule.id)),
    h('td', {}, when(rule)),
    h('td', {}, then(rule)),
    h('td', {class: 'num', 'data-field': 'fired'}, String(rule.fired)),
    h('td', {class: 'num', 'data-field': 'remaining'}, rule.remaining === undefined ? '∞' : String(rule.remaining)),
    h('td', {}, h('button', {type: 'button', class: 'small', 'aria-label': `Remove rule ${rule.id}`, onclick: () => remove(rule.id)}, '✕')))));
  $('faults-empty').hidden = rules.length > 0;
}

export async function refresh() {
  const {faults} = await call('GET', '/__doublure/faults');
  render(faults);
}

async function add(spec) {
  const rule = await call('POST', '/__doublure/faults', spec);
  await refresh();
  toast(`Rule ${rule.id}: ${when(rule)} → ${then(rule)}`);
  return rule;
}

async function remove(id) {
  try {
    await call('DELETE', `/__doublure/faults/${id}`);
    await refresh();
    toast(`Rule ${id} removed`);
  } catch (error) {
    toast(explain(error), true);
  }
}

// The form's filled fields, typed as the API wants them.
function spec(form) {
  const rule = {};
  for (const input of form.elements) {
    if (!input.name) continue;
    if (input.type === 'checkbox') {
      if (input.checked) rule[input.name] = true;
    } else if (input.value.trim() !== '') {
      rule[input.name] = input.type === 'number' ? Number(input.value) : input.value.trim();
    }
  }
  return rule;
}

export function init() {
  $('panel-faults').addEventListener('click', async (e) => {
    const button = e.target.closest('[data-preset]');
    if (!button) return;
    const [method, path] = $('preset-route').value.split(' ');
    const rule = {...PRESETS[button.dataset.preset], path};
    if (method !== 'ANY') rule.method = method;
    try {
      await add(rule);
    } catch (error) {
      toast(explain(error), true);
    }
  });
  $('fault-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    $('fault-error').textContent = '';
    try {
      await add(spec(form));
      form.reset();
    } catch (error) {
      $('fault-error').textContent = explain(error);
    }
  });
  $('faults-clear').addEventListener('click', async () => {
    try {
      await call('DELETE', '/__doublure/faults');
      await refresh();
      toast('Every rule removed');
    } catch (error) {
      toast(explain(error), true);
    }
  });
}
