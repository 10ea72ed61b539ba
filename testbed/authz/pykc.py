"""What python-keycloak makes of an exported authorization config.

Reads a JSON request on stdin: {server, realm, client, secret, config, pem,
users: {name: password}}. For each user it logs in with the password grant,
verifies the access token with decode_token and a key read (JWK.from_pem)
from the PEM that `ssoctl keycloak public-key` printed, and asks get_permissions (local
evaluation of the config that `ssoctl export authz` wrote) which
permissions it grants. Prints {user: {sub, permissions}} as JSON.
"""
import json
import sys

from jwcrypto import jwk
from keycloak import KeycloakOpenID

req = json.load(sys.stdin)
kc = KeycloakOpenID(server_url=req["server"], realm_name=req["realm"], client_id=req["client"], client_secret_key=req["secret"])
kc.load_authorization_config(req["config"])
with open(req["pem"]) as f:
    # python-keycloak's documented way: a jwcrypto key from the PEM block.
    key = jwk.JWK.from_pem(f.read().encode())
out = {}
for user, password in req["users"].items():
    token = kc.token(user, password)["access_token"]
    claims = kc.decode_token(token, key=key)  # raises unless the signature verifies
    perms = kc.get_permissions(token, method_token_info="decode", key=key) or []
    out[user] = {"sub": claims["sub"], "permissions": sorted(p.name for p in perms)}
print(json.dumps(out))
