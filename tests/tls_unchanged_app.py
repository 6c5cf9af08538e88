#!/usr/bin/env python3
"""An application that knows only the real Logora service: its address is
written in the code, as it would be in production. It trusts what its
environment trusts (REQUESTS_CA_BUNDLE), and resolves names as its machine
does (/etc/hosts): tests/it/server/tls_clients.rs runs it, unchanged, in a
network namespace where app.logora.fr is doublure.
"""
import json

import requests

LOGORA = 'https://app.logora.fr'

token = requests.post(
    LOGORA + '/oauth/token',
    data={
        'grant_type': 'client_credentials',
        'client_id': 'API_KEY',
        'client_secret': 'API_SECRET',
    },
).json()['access_token']
users = requests.get(
    LOGORA + '/api/v1/users',
    params={'per_page': 2},
    headers={'Authorization': 'Bearer ' + token},
)
print(json.dumps({
    'status': users.status_code,
    'first': users.json()['data'][0]['id'],
    'count': len(users.json()['data']),
}))
