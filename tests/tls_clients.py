#!/usr/bin/env python3
"""Real Python clients against doublure over HTTPS, trusting its CA and
nothing else: no insecure switch, OAUTHLIB_INSECURE_TRANSPORT unset.

Usage: tls_clients.py BASE_URL CA_FILE. Prints one JSON object: what each
client saw (status, protocol, sizes), which tests/it/server/tls_clients.rs
compares exactly.
"""
import datetime
import json
import os
import secrets
import ssl
import sys

import httpx
import requests
from authlib.integrations.httpx_client import OAuth2Client as AuthlibClient
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wcs_sign_vectors import sign_url  # noqa: E402  w.c.s.'s reference signer

BASE, CA = sys.argv[1], sys.argv[2]
CLIENT_ID, CLIENT_SECRET = 'API_KEY', 'API_SECRET'
assert 'OAUTHLIB_INSECURE_TRANSPORT' not in os.environ
seen = {}

# requests-oauthlib: the client-credentials flow of its documentation,
# `verify` naming the CA file (as REQUESTS_CA_BUNDLE would).
session = OAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
token = session.fetch_token(
    token_url=BASE + '/oauth/token',
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    verify=CA,
)
page = session.get(BASE + '/api/v1/users', params={'per_page': 3}, verify=CA)
seen['requests_oauthlib'] = {
    'token_type': token['token_type'],
    'status': page.status_code,
    'users': len(page.json()['data']),
}

# authlib, on httpx with HTTP/2 off.
context = ssl.create_default_context(cafile=CA)
with AuthlibClient(
    CLIENT_ID,
    CLIENT_SECRET,
    token_endpoint_auth_method='client_secret_post',
    verify=context,
    http2=False,
) as client:
    token = client.fetch_token(BASE + '/oauth/token', grant_type='client_credentials')
    page = client.get(BASE + '/api/v1/users', params={'per_page': 2})
    seen['authlib'] = {
        'token_type': token['token_type'],
        'status': page.status_code,
        'users': len(page.json()['data']),
        'http_version': page.http_version,
    }

# httpx with HTTP/2 on.
with httpx.Client(http2=True, verify=context) as client:
    token = client.post(
        BASE + '/oauth/token',
        data={
            'grant_type': 'client_credentials',
            'client_id': CLIENT_ID,
            'client_secret': CLIENT_SECRET,
        },
    )
    access = token.json()['access_token']
    page = client.get(
        BASE + '/api/v1/users',
        params={'per_page': 4},
        headers={'Authorization': 'Bearer ' + access},
    )
    seen['httpx'] = {
        'token_status': token.status_code,
        'token_http_version': token.http_version,
        'status': page.status_code,
        'users': len(page.json()['data']),
        'http_version': page.http_version,
    }

# w.c.s.: a URL signed by the reference signer, fetched with requests.
now = datetime.datetime.now(datetime.timezone.utc)
_, _, url = sign_url(
    BASE + '/api/user/?email=fred%40example.net',
    'demo',
    'demo-secret',
    'sha256',
    now,
    secrets.token_hex(16),
)
answer = requests.get(url, verify=CA)
seen['wcs'] = {
    'status': answer.status_code,
    'user_email': answer.json()['user_email'],
    'user_display_name': answer.json()['user_display_name'],
}

print(json.dumps(seen, sort_keys=True))
