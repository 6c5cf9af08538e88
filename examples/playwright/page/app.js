// A front end that lists Logora users, as a browser app would: a token from
// /oauth/token, then the first page of /api/v1/users. The API's base URL
// comes from the page's ?api= parameter (a doublure server, or one of its
// namespaces). A real app keeps its client secret on a server; this demo
// talks to a test double, whose demo client is public.

const api = new URL(location.href).searchParams.get('api');
const status = document.querySelector('#status');
const total = document.querySelector('#total');
const users = document.querySelector('#users');

async function load() {
  status.textContent = 'Chargement…';
  total.textContent = '';
  users.replaceChildren();
  // doublure's X-Doublure-Fault header fails this one call, for demos.
  const fault = document.querySelector('#outage').checked ? { 'X-Doublure-Fault': 'status=503' } : {};
  try {
    const tokenResponse = await fetch(`${api}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET',
    });
    if (!tokenResponse.ok) throw new Error(`no token (${tokenResponse.status})`);
    const { access_token: token } = await tokenResponse.json();
    const response = await fetch(`${api}/api/v1/users?per_page=5`, {
      headers: { authorization: `Bearer ${token}`, ...fault },
    });
    if (!response.ok) {
      status.textContent = `Logora est indisponible (${response.status})`;
      return;
    }
    const { data } = await response.json();
    for (const user of data) {
      const item = document.createElement('li');
      item.textContent = `${user.full_name} (${user.city})`;
      users.append(item);
    }
    status.textContent = 'Prêt.';
    total.textContent = `${response.headers.get('total')} débatteurs`;
  } catch (error) {
    status.textContent = `Erreur : ${error.message}`;
  }
}

document.querySelector('#reload').addEventListener('click', load);
load();
