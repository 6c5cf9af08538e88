// The emulated clock: shown ticking (or frozen) in the header and the
// Clock panel, moved by the panel's buttons.

import {call} from './api.js';
import {$, toast, explain} from './dom.js';

let clock = null; // {now: ms since epoch, frozen, at: performance.now() when read}
const listeners = [];

// Told after the clock was moved from this page (tokens may have expired).
export function onMove(listener) {
  listeners.push(listener);
}

const current = () => (clock.frozen ? clock.now : clock.now + (performance.now() - clock.at));

// The emulated time now, in ms since the epoch (the real time until read).
export const emulatedNow = () => (clock ? current() : Date.now());
const format = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function show() {
  if (!clock) return;
  const text = `${format(current())} UTC`;
  $('chip-now').textContent = text;
  $('clock-now').textContent = text;
  for (const id of ['chip-state', 'clock-state']) {
    $(id).textContent = clock.frozen ? 'frozen' : 'running';
    $(id).className = `badge ${clock.frozen ? 'info' : 'good'}`;
  }
  $('clock-freeze').textContent = clock.frozen ? 'Let it run' : 'Freeze';
}

function take(body) {
  clock = {now: Date.parse(body.now), frozen: body.frozen, at: performance.now()};
  const date = $('clock-date');
  if (!date.dataset.edited) date.value = new Date(clock.now).toISOString().slice(0, 19);
  show();
}

export async function refresh() {
  take(await call('GET', '/__doublure/clock'));
}

function spell(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return [hours && `${hours} h`, minutes && `${minutes} min`, rest && `${rest} s`].filter(Boolean).join(' ');
}

async function change(request, message) {
  $('clock-error').textContent = '';
  try {
    take(await request());
    toast(message());
    for (const listener of listeners) listener();
  } catch (error) {
    $('clock-error').textContent = explain(error);
  }
}

export function init() {
  setInterval(show, 1000);
  // Once edited, the date field keeps what the user typed.
  $('clock-date').addEventListener('input', (e) => {
    e.currentTarget.dataset.edited = 'yes';
  });
  $('clock-freeze').addEventListener('click', () => change(
    () => call('PUT', '/__doublure/clock', {frozen: !clock?.frozen}),
    () => (clock.frozen ? 'Clock frozen' : 'Clock running')));
  $('panel-clock').addEventListener('click', (e) => {
    const button = e.target.closest('[data-seconds]');
    if (!button) return;
    const seconds = Number(button.dataset.seconds);
    change(() => call('POST', '/__doublure/clock/advance', {seconds}),
      () => `Clock moved ${spell(seconds)} forward: ${format(clock.now)} UTC`);
  });
  $('clock-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('clock-date').value;
    if (!value) {
      $('clock-error').textContent = 'Give a date and time.';
      return;
    }
    // datetime-local leaves the seconds out when they are zero.
    const now = `${value.length === 16 ? `${value}:00` : value}Z`;
    delete $('clock-date').dataset.edited;
    change(() => call('PUT', '/__doublure/clock', {now}), () => `Clock set to ${format(clock.now)} UTC`);
  });
}
