#!/usr/bin/env bash
# bench/gen-keycloak.sh REALM OUTDIR: writes the benchmark workload twice, as
# OUTDIR/sso.yaml for ssoctl and as OUTDIR/kcadm.sh, the same objects made
# with Keycloak's own admin CLI: 50 clients with 4 mappers and 2 roles each,
# and 20 groups each bound to a client role.
#
# bench/gen-keycloak.sh REALM OUTDIR large: the large realm instead, as
# OUTDIR/sso.yaml: 10 realm roles, 2,000 clients with 4 mappers and 2 roles
# each, and 500 groups (450 at the top, 50 nested one level below) each
# bound to a client role, every tenth top group to a realm role too. Its
# 1,000 users are the realm's own, not the file's (sso.yaml's users are for
# demos and test logins): OUTDIR/users.json is a partialImport body that
# puts them in the realm, each a member of one group.
set -euo pipefail
realm=$1 out=$2 size=${3:-small}
mkdir -p "$out"
if [ "$size" = large ]; then
	{
		echo "keycloak:"
		echo "  realm: $realm"
		echo "  create_realm: true"
		echo "  realm_roles: [$(seq -f 'auditor-%02g' -s ', ' 1 10)]"
		echo "  clients:"
		for i in $(seq -w 1 2000); do
			cat <<Y
    - client_id: app-$i
      redirect_uris: [https://app-$i.example.com/callback]
      roles: [reader, writer]
      mappers:
        - audience: app-$i
        - client_roles: {claim: roles}
        - groups: {claim: groups}
        - attribute: {user_attribute: department, claim: department}
Y
		done
		echo "  groups:"
		for i in $(seq -w 1 450); do
			if [ $((10#$i % 10)) -eq 0 ]; then
				echo "    - {name: team-$i, realm_roles: [auditor-$(printf %02d $((10#$i / 10 % 10 + 1)))], client_roles: {app-0$i: [reader]}}"
			else
				echo "    - {name: team-$i, client_roles: {app-0$i: [reader]}}"
			fi
		done
		for i in $(seq -w 1 50); do
			echo "    - {name: team-$(printf %03d $((10#$i)))/squad, client_roles: {app-$(printf %04d $((10#$i + 1000))): [writer]}}"
		done
	} > "$out/sso.yaml"
	{
		echo '{"ifResourceExists": "SKIP", "users": ['
		for i in $(seq 1 1000); do
			sep=,
			[ "$i" -eq 1000 ] && sep=
			printf '{"username":"user-%04d","email":"user-%04d@example.com","firstName":"User","lastName":"%04d","enabled":true,"emailVerified":true,"groups":["/team-%03d"]}%s\n' "$i" "$i" "$i" $(( (i - 1) % 450 + 1 )) "$sep"
		done
		echo ']}'
	} > "$out/users.json"
	exit 0
fi
{
	echo "keycloak:"
	echo "  realm: $realm"
	echo "  create_realm: true"
	echo "  clients:"
	for i in $(seq -w 1 50); do
		cat <<Y
    - client_id: app-$i
      redirect_uris: [https://app-$i.example.com/callback]
      roles: [reader, writer]
      mappers:
        - audience: app-$i
        - client_roles: {claim: roles}
        - groups: {claim: groups}
        - attribute: {user_attribute: department, claim: department}
Y
	done
	echo "  groups:"
	for i in $(seq -w 1 20); do
		echo "    - {name: team-$i, client_roles: {app-$i: [reader]}}"
	done
} > "$out/sso.yaml"

flags() { # id access userinfo
	printf '"id.token.claim":"%s","access.token.claim":"%s","userinfo.token.claim":"%s","introspection.token.claim":"%s","lightweight.claim":"false"' "$1" "$2" "$3" "$2"
}
{
	echo '#!/usr/bin/env bash'
	echo 'set -euo pipefail'
	echo 'kc() { "$KEYCLOAK_HOME/bin/kcadm.sh" "$@"; }'
	# Log in again every ten clients, as a long kcadm script must: its stored
	# session expires (a 401 halfway through otherwise).
	login='kc config credentials --config "$KCADM_CONFIG" --server "$KEYCLOAK_URL" --realm master --user "$KEYCLOAK_ADMIN" --password "$KEYCLOAK_ADMIN_PASSWORD"'
	echo "$login"
	echo "kc create realms --config \"\$KCADM_CONFIG\" -s realm=$realm -s enabled=true"
	for i in $(seq -w 1 50); do
		if [ $((10#$i % 10)) -eq 0 ]; then echo "$login"; fi
		m1="{\"name\":\"audience app-$i\",\"protocol\":\"openid-connect\",\"protocolMapper\":\"oidc-audience-mapper\",\"config\":{\"included.client.audience\":\"app-$i\",$(flags true true false)}}"
		m2="{\"name\":\"client roles app-$i\",\"protocol\":\"openid-connect\",\"protocolMapper\":\"oidc-usermodel-client-role-mapper\",\"config\":{\"usermodel.clientRoleMapping.clientId\":\"app-$i\",\"claim.name\":\"roles\",\"jsonType.label\":\"String\",\"multivalued\":\"true\",$(flags true true true)}}"
		m3="{\"name\":\"groups\",\"protocol\":\"openid-connect\",\"protocolMapper\":\"oidc-group-membership-mapper\",\"config\":{\"claim.name\":\"groups\",\"full.path\":\"false\",$(flags true true true)}}"
		m4="{\"name\":\"attribute department\",\"protocol\":\"openid-connect\",\"protocolMapper\":\"oidc-usermodel-attribute-mapper\",\"config\":{\"user.attribute\":\"department\",\"claim.name\":\"department\",\"jsonType.label\":\"String\",\"multivalued\":\"false\",\"aggregate.attrs\":\"false\",$(flags true true true)}}"
		echo "cid=\$(kc create clients --config \"\$KCADM_CONFIG\" -r $realm -i -f - <<'J'"
		echo "{\"clientId\":\"app-$i\",\"protocol\":\"openid-connect\",\"publicClient\":false,\"bearerOnly\":false,\"redirectUris\":[\"https://app-$i.example.com/callback\"],\"protocolMappers\":[$m1,$m2,$m3,$m4]}"
		echo "J"
		echo ")"
		echo "kc create clients/\$cid/roles --config \"\$KCADM_CONFIG\" -r $realm -s name=reader"
		echo "kc create clients/\$cid/roles --config \"\$KCADM_CONFIG\" -r $realm -s name=writer"
	done
	echo "$login"
	for i in $(seq -w 1 20); do
		echo "kc create groups --config \"\$KCADM_CONFIG\" -r $realm -s name=team-$i"
		echo "kc add-roles --config \"\$KCADM_CONFIG\" -r $realm --gname team-$i --cclientid app-$i --rolename reader"
	done
} > "$out/kcadm.sh"
chmod +x "$out/kcadm.sh"
