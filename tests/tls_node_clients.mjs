// Node's fetch and oauth4webapi (in its default, strict mode) against
// doublure over HTTPS: the CA comes from NODE_EXTRA_CA_CERTS only, no
// insecure switch. Usage: node tls_node_clients.mjs BASE_URL, run from a
// folder whose node_modules holds oauth4webapi. Prints one JSON object,
// which tests/it/server/tls_clients.rs compares exactly.
import * as oauth from 'oauth4webapi';

const base = process.argv[2];
const seen = {};

// fetch: a token, then a users page.
const tokenAnswer = await fetch(`${base}/oauth/token`, {
  method: 'POST',
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: 'API_KEY',
    client_secret: 'API_SECRET',
  }),
});
const token = await tokenAnswer.json();
const page = await fetch(`${base}/api/v1/users?per_page=2`, {
  headers: { authorization: `Bearer ${token.access_token}` },
});
seen.fetch = {
  token_status: tokenAnswer.status,
  status: page.status,
  users: (await page.json()).data.length,
};

// oauth4webapi: the client credentials grant, then a protected resource.
const as = { issuer: base, token_endpoint: `${base}/oauth/token` };
const client = { client_id: 'API_KEY' };
const response = await oauth.clientCredentialsGrantRequest(
  as,
  client,
  oauth.ClientSecretPost('API_SECRET'),
  new URLSearchParams({ scope: 'public' }),
);
const result = await oauth.processClientCredentialsResponse(as, client, response);
const users = await oauth.protectedResourceRequest(
  result.access_token,
  'GET',
  new URL(`${base}/api/v1/users?per_page=3`),
);
seen.oauth4webapi = {
  token_type: result.token_type,
  status: users.status,
  users: (await users.json()).data.length,
};

console.log(JSON.stringify(seen));
