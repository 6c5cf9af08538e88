// The data: browse any collection (Logora users with the API's own
// filters), edit an item as JSON with the fixture validation's messages
// beside the fields they name, create and delete items.

import {call} from './api.js';
import {$, h, toast, explain} from './dom.js';

const COLLECTIONS = [
  ['Logora', [
    {path: 'logora/users', label: 'users', key: 'id', columns: ['id', 'full_name', 'email', 'sub_application_name', 'is_expert', 'is_selected']},
    {path: 'logora/clients', label: 'clients', key: 'client_id', columns: ['client_id', 'application_id', 'scopes', 'token_lifetime']},
    {path: 'logora/applications', label: 'applications', key: 'id', columns: ['id', 'name', 'sub_applications']},
  ]],
  ['w.c.s.', [
    {path: 'wcs/users', label: 'users', key: 'id', columns: ['id', 'name', 'email', 'roles']},
    {path: 'wcs/forms', label: 'forms', key: 'id', columns: ['id', 'formdef_id', 'user_id', 'status', 'receipt_time']},
    {path: 'wcs/drafts', label: 'drafts', key: 'id', columns: ['id', 'formdef_id', 'user_id', 'receipt_time']},
    {path: 'wcs/formdefs', label: 'form definitions', key: 'id', columns: ['id', 'name', 'slug', 'category_id']},
    {path: 'wcs/roles', label: 'roles', key: 'id', columns: ['id', 'name', 'slug']},
    {path: 'wcs/categories', label: 'categories', key: 'id', columns: ['id', 'name', 'slug']},
    {path: 'wcs/api_accesses', label: 'API accesses', key: 'access_identifier', columns: ['access_identifier', 'description', 'roles']},
  ]],
];
const ALL = COLLECTIONS.flatMap(([, list]) => list);
const PAGE = 100;

let collection = ALL[0];
let items = [];
let shown = [];
let page = 0;
let editing = null; // {mode: 'edit'|'create', id}
let problems = [];
let listeners = [];

// Told after this page changed the data (the credential choices follow).
export function onChange(listener) {
  listeners.push(listener);
}

const cell = (value) => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
const idOf = (item) => cell(item[collection.key]);

function matches(item) {
  const text = $('data-search').value.trim().toLowerCase();
  if (text && !JSON.stringify(item).toLowerCase().includes(text)) return false;
  if (collection.path !== 'logora/users') return true;
  const want = (id, value) => !$(id).value || $(id).value === String(value);
  return want('filter-application', item.application_id) && want('filter-sub', item.sub_application_name)
    && want('filter-expert', item.is_expert) && want('filter-selected', item.is_selected);
}

function renderList() {
  shown = items.filter(matches);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  page = Math.min(page, pages - 1);
  // Ids and flags are short; names, e-mails and times need the room.
  const weight = (c) => (c === collection.key || c.startsWith('is_') || c.endsWith('_id') ? 1 : 3);
  const total = collection.columns.reduce((sum, c) => sum + weight(c), 0);
  $('data-columns').replaceChildren(...collection.columns.map((c) => {
    const col = h('col');
    col.style.width = `${(100 * weight(c)) / total}%`;
    return col;
  }));
  $('data-head').replaceChildren(h('tr', {}, collection.columns.map((c) => h('th', {scope: 'col'}, c))));
  $('data-rows').replaceChildren(...shown.slice(page * PAGE, (page + 1) * PAGE).map((item) => h('tr', {
    'data-id': idOf(item), tabindex: '-1',
  }, collection.columns.map((c) => h('td', {}, cell(item[c]))))));
  markSelected();
  $('data-page').textContent = `${shown.length} of ${items.length} · page ${page + 1} of ${pages}`;
  $('data-prev').disabled = page === 0;
  $('data-next').disabled = page >= pages - 1;
}

// The open item's row is marked and is the one Tab reaches; the arrow
// keys move between rows.
function markSelected() {
  const rows = [...$('data-rows').rows];
  const current = rows.find((tr) => editing?.mode === 'edit' && tr.dataset.id === editing.id);
  for (const tr of rows) {
    tr.classList.toggle('selected', tr === current);
    tr.tabIndex = tr === (current || rows[0]) ? 0 : -1;
  }
}

async function loadFilters() {
  const applications = await call('GET', '/__doublure/logora/applications');
  const application = $('filter-application');
  const kept = application.value;
  application.replaceChildren(h('option', {value: ''}, 'any'), ...applications.map((a) => h('option', {value: String(a.id)}, `${a.id} ${a.name}`)));
  application.value = kept;
  const subs = applications.filter((a) => !application.value || String(a.id) === application.value).flatMap((a) => a.sub_applications);
  const sub = $('filter-sub');
  const keptSub = sub.value;
  sub.replaceChildren(h('option', {value: ''}, 'any'), ...subs.map((s) => h('option', {value: s}, s)));
  sub.value = subs.includes(keptSub) ? keptSub : '';
}

export async function refresh() {
  $('logora-filters').hidden = collection.path !== 'logora/users';
  const [list] = await Promise.all([
    call('GET', `/__doublure/${collection.path}`),
    collection.path === 'logora/users' ? loadFilters() : null,
  ]);
  items = list;
  renderList();
}

// Where each problem's field is in the text, so its message sits beside it.
function placeNotes() {
  const text = $('editor-text');
  const notes = $('editor-notes');
  const style = getComputedStyle(text);
  const line = parseFloat(style.lineHeight);
  const lines = text.value.split('\n');
  notes.replaceChildren();
  for (const problem of problems) {
    if (!problem.field || !problem.own) continue;
    const name = problem.field.split(/[.[]/)[0];
    const at = lines.findIndex((l) => l.startsWith(`  ${JSON.stringify(name)}:`));
    const top = parseFloat(style.paddingTop) + (at < 0 ? 0 : at) * line - text.scrollTop;
    if (top < 0 || top > text.clientHeight - line) continue;
    const note = h('span', {class: 'note'}, `${problem.field}: ${problem.message}`);
    note.style.top = `${top}px`;
    notes.append(note);
  }
}

// "state/logora/users.json: item 21 (id 21): field age: invalid type…".
// A problem is the edited item's own when it names that item; a change
// can also break others (a form whose user was deleted).
function parse(text, id) {
  const found = /^(?:state\/)?(.*?): (?:item \d+(?: \(id (.*?)\))?: )?(?:field ([^:]+): )?([\s\S]*)$/.exec(text);
  if (!found) return {own: false, message: text};
  const [, file, item, field, message] = found;
  const mine = collection.path === 'wcs/drafts' ? 'wcs/forms.json' : `${collection.path}.json`;
  const own = file === mine && (item === undefined || item === id);
  return {own, field, message, where: own ? null : `${file}${item === undefined ? '' : `, id ${item}`}: `};
}

// A refused change: the validation's problems, or the error.
function refused(error, id) {
  const list = error.body?.problems;
  showProblems(Array.isArray(list) ? list.map((p) => parse(p, id)) : [{own: true, message: explain(error)}]);
}

function showProblems(list) {
  problems = list;
  $('editor-problems').replaceChildren(...list.map((p) => h('li', {'data-field': p.own ? p.field || null : null},
    p.where, p.field ? h('strong', {}, `${p.field}: `) : null, p.message)));
  placeNotes();
}

function edit(mode, item) {
  editing = {mode, id: mode === 'edit' ? idOf(item) : null};
  const text = $('editor-text');
  text.disabled = false;
  text.value = JSON.stringify(item, null, 2);
  text.scrollTop = 0;
  $('editor-title').textContent = mode === 'edit'
    ? `${collection.path} ${collection.key} ${editing.id}` : `New item in ${collection.path}`;
  $('editor-save').disabled = false;
  $('editor-save').textContent = mode === 'edit' ? 'Save' : 'Create';
  $('editor-delete').disabled = mode !== 'edit';
  showProblems([]);
  markSelected();
}

// Back to no item open (after a reset the open one may be gone).
export function idle() {
  editing = null;
  $('editor-text').value = '';
  $('editor-text').disabled = true;
  $('editor-title').textContent = 'No item selected';
  $('editor-save').disabled = true;
  $('editor-delete').disabled = true;
  showProblems([]);
}

// A template for a new item: the selected one (or the first) with the
// next free id.
function template() {
  const source = items.find((i) => idOf(i) === editing?.id) || items[0] || {[collection.key]: ''};
  const copy = structuredClone(source);
  const numbers = items.map((i) => Number(i[collection.key])).filter(Number.isFinite);
  const next = numbers.length ? Math.max(...numbers) + 1 : 1;
  copy[collection.key] = typeof source[collection.key] === 'number' ? next : typeof source[collection.key] === 'string' && numbers.length === items.length ? String(next) : '';
  return copy;
}

async function save() {
  let item;
  try {
    item = JSON.parse($('editor-text').value);
  } catch (error) {
    showProblems([{own: true, message: `Not JSON: ${error.message}`}]);
    return;
  }
  const path = `/__doublure/${collection.path}`;
  try {
    const stored = editing.mode === 'edit'
      ? await call('PUT', `${path}/${encodeURIComponent(editing.id)}`, item)
      : await call('POST', path, item);
    toast(editing.mode === 'edit' ? 'Saved' : 'Created');
    await refresh();
    edit('edit', stored);
    for (const listener of listeners) listener();
  } catch (error) {
    refused(error, cell(item[collection.key]));
  }
}

let deleteArmed = null;
async function remove() {
  const button = $('editor-delete');
  if (!deleteArmed) {
    button.textContent = 'Click again to delete';
    deleteArmed = setTimeout(() => {
      deleteArmed = null;
      button.textContent = 'Delete';
    }, 4000);
    return;
  }
  clearTimeout(deleteArmed);
  deleteArmed = null;
  button.textContent = 'Delete';
  try {
    await call('DELETE', `/__doublure/${collection.path}/${encodeURIComponent(editing.id)}`);
    toast(`Deleted ${collection.key} ${editing.id}`);
    idle();
    await refresh();
    for (const listener of listeners) listener();
  } catch (error) {
    refused(error, editing.id);
  }
}

export function init() {
  $('data-collection').replaceChildren(...COLLECTIONS.map(([api, list]) => h('optgroup', {label: api},
    list.map((c) => h('option', {value: c.path}, `${api} ${c.label}`)))));
  $('data-collection').addEventListener('change', (e) => {
    collection = ALL.find((c) => c.path === e.currentTarget.value);
    page = 0;
    idle();
    refresh().catch((error) => toast(explain(error), true));
  });
  $('data-search').addEventListener('input', () => {
    page = 0;
    renderList();
  });
  $('filter-application').addEventListener('change', () => loadFilters().then(renderList));
  for (const id of ['filter-sub', 'filter-expert', 'filter-selected']) {
    $(id).addEventListener('change', () => {
      page = 0;
      renderList();
    });
  }
  $('data-prev').addEventListener('click', () => {
    page -= 1;
    renderList();
  });
  $('data-next').addEventListener('click', () => {
    page += 1;
    renderList();
  });
  const open = (tr) => {
    const item = items.find((i) => idOf(i) === tr.dataset.id);
    if (item) edit('edit', item);
  };
  $('data-rows').addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    if (tr) open(tr);
  });
  $('data-rows').addEventListener('keydown', (e) => {
    if (!e.target.matches('tr')) return;
    const next = {ArrowDown: e.target.nextElementSibling, ArrowUp: e.target.previousElementSibling}[e.key];
    if (e.key === 'Enter') open(e.target);
    else if (next) {
      e.preventDefault();
      e.target.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  });
  $('data-new').addEventListener('click', () => edit('create', template()));
  $('editor').addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  $('editor-delete').addEventListener('click', remove);
  $('editor-text').addEventListener('scroll', placeNotes);
  $('editor-text').addEventListener('input', placeNotes);
}
