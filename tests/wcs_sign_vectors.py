#!/usr/bin/env python3
"""Independent implementation of w.c.s.'s reference signer (wcs/api_utils.py
sign_url / sign_query / sign_string), Python 3 stdlib only.

Prints JSON vectors; tests/data/wcs_vectors.json is its committed output,
checked by src/wcs/signature.rs and by tests/it/wcs/wire.rs (which reruns
this script and compares).
"""
import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse


def sign_string(s, key, algo='sha256'):
    digestmod = getattr(hashlib, algo)
    return hmac.HMAC(key.encode('utf-8'), s.encode('utf-8'), digestmod).digest()


def sign_query(query, key, algo, timestamp, nonce):
    timestamp = timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')
    new_query = query
    if new_query:
        new_query += '&'
    params = [('algo', algo), ('timestamp', timestamp)]
    if nonce:
        params.append(('nonce', nonce))
    new_query += urllib.parse.urlencode(params)
    signature = base64.b64encode(sign_string(new_query, key, algo=algo))
    return new_query, signature.decode('ascii'), new_query + '&signature=' + urllib.parse.quote(signature)


def sign_url(url, orig, key, algo, timestamp, nonce):
    # Callers add orig to the URL before calling upstream's sign_url.
    url += ('&' if '?' in url else '?') + 'orig=' + urllib.parse.quote(orig)
    parsed = urllib.parse.urlparse(url)
    signed, signature, query = sign_query(parsed.query, key, algo, timestamp, nonce)
    return signed, signature, urllib.parse.urlunparse(parsed[:4] + (query,) + parsed[5:])


CASES = [
    ('http://localhost:8080/api/user/', 'demo', 'demo-secret', 'sha256', '2026-01-15T10:00:00Z', ''),
    ('http://localhost:8080/api/user/?email=fred%40example.net', 'demo', 'demo-secret', 'sha256', '2026-01-15T10:00:00Z', '0123456789abcdef0123456789abcdef'),
    ('http://localhost:8080/api/user/forms?full=on&email=fred%40example.net', 'demo', 'demo-secret', 'sha1', '2026-01-15T10:00:05Z', 'aa'),
    ('http://localhost:8080/api/users/?q=jean+s%C3%A9nisme&limit=5', 'demo', 'demo-secret', 'sha512', '2026-01-15T09:59:40Z', ''),
    ('http://localhost:8080/api/user/?format=json&email=jean.darmette%40triffouilis.fr', 'coucou', '1234', 'md5', '2026-01-15T10:00:00Z', 'n1'),
    ('http://localhost:8080/api/user/?NameID=0123456789', 'coucou', '1234', 'sha224', '2026-01-15T10:00:00Z', ''),
    ('http://localhost:8080/api/user/?format=json', 'coucou', '1234', 'sha384', '2026-01-15T10:00:00Z', 'ffff'),
    ('http://localhost:8080/api/user/?format=json', 'salut', 'cl\u00e9 secr\u00e8te', 'sha3_224', '2026-01-15T10:00:00Z', ''),
    ('http://localhost:8080/api/user/drafts?email=fred%40example.net', 'demo', 'demo-secret', 'sha3_256', '2026-01-15T10:00:00Z', 'b'),
    ('http://localhost:8080/api/users/5/forms?limit=2&offset=1', 'demo', 'demo-secret', 'sha3_384', '2026-01-15T10:00:00Z', ''),
    ('http://localhost:8080/api/users/?roles=1,2', 'demo', 'demo-secret', 'sha3_512', '2026-01-15T10:00:00Z', 'c'),
    ('http://localhost:8080/api/user/?email=a%20b%2Bc', 'demo', 'demo-secret', 'blake2b', '2026-01-15T10:00:00Z', ''),
    ('http://localhost:8080/api/user/?email=a+b', 'demo', 'demo-secret', 'blake2s', '2026-01-15T10:00:00Z', 'd'),
    ('http://localhost:8080/api/user/', 'orig with space', 'k' * 200, 'sha256', '2026-01-15T10:00:00Z', ''),
]


def main():
    out = []
    for url, orig, key, algo, now, nonce in CASES:
        ts = datetime.datetime.strptime(now, '%Y-%m-%dT%H:%M:%SZ')
        signed, signature, signed_url = sign_url(url, orig, key, algo, ts, nonce)
        out.append({
            'url': url, 'orig': orig, 'key': key, 'algo': algo, 'now': now, 'nonce': nonce,
            'signed': signed, 'signature': signature, 'signed_url': signed_url,
        })
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
