// Small DOM helpers. Elements are built with text nodes, never innerHTML,
// so nothing the server sends (paths, outcomes, fixture data) is parsed as
// markup.

export const $ = (id) => document.getElementById(id);

// h('td', {class: 'num', title: 'x'}, 'text', child…)
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

let toastTimer;
// A short message in the status region, read out by screen readers.
export function toast(message, error = false) {
  const box = $('toast');
  box.textContent = message;
  box.classList.toggle('bad', error);
  box.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove('shown'), error ? 6000 : 2500);
}

// Copies text; over plain HTTP on another host the Clipboard API is
// missing, so the text is then selected for Ctrl+C instead.
export async function copy(text, source) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied');
  } catch {
    const field = h('textarea', {class: 'sr', readonly: true, 'aria-hidden': 'true'}, text);
    document.body.append(field);
    field.select();
    const done = document.execCommand && document.execCommand('copy');
    field.remove();
    toast(done ? 'Copied' : 'Select the text and press Ctrl+C to copy');
    source?.focus();
  }
}

// A block of text with a copy button, for tokens, URLs and commands.
export function copyable(label, text) {
  return h('div', {class: 'copyable'},
    h('span', {class: 'label'}, label),
    h('code', {}, text),
    h('button', {type: 'button', onclick: (e) => copy(text, e.currentTarget), 'aria-label': `Copy ${label.toLowerCase()}`}, 'Copy'));
}

// Tabs that follow the WAI-ARIA pattern: click, or arrow keys then focus.
export function tabs(list, onChange = () => {}) {
  const buttons = [...list.querySelectorAll('[role=tab]')];
  const select = (chosen, focus = false) => {
    for (const button of buttons) {
      const on = button === chosen;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      $(button.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) chosen.focus();
    onChange(chosen.id);
  };
  list.addEventListener('click', (e) => {
    const button = e.target.closest('[role=tab]');
    if (button) select(button);
  });
  list.addEventListener('keydown', (e) => {
    const at = buttons.indexOf(document.activeElement);
    const step = {ArrowRight: 1, ArrowLeft: -1}[e.key];
    if (at < 0 || !step) return;
    e.preventDefault();
    select(buttons[(at + step + buttons.length) % buttons.length], true);
  });
  return (id) => select($(id));
}

// A word for a POSIX shell, in single quotes.
export const shellQuote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;

// The message of a refused call, for the person who made it. Any other
// error is a bug of this page, reported on the console as well.
export function explain(error) {
  if (!('status' in error)) {
    console.error(error);
    return `The console failed: ${error.message}`;
  }
  const body = error.body;
  if (body && typeof body === 'object' && body.error) return body.error;
  if (error.status) return `HTTP ${error.status}`;
  return error.message || String(error);
}
