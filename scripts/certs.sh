#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Make a CA and certificates for portico-agent's remote API with the openssl
# CLI, for tests and a first setup:
#
#   scripts/certs.sh DIR [SERVER_NAME ...]
#
#   DIR/ca.pem, ca.key          the CA (agent --ca, portico --ca)
#   DIR/server.pem, server.key  the agent's certificate (agent --cert/--key),
#                               for every SERVER_NAME (DNS names or IP
#                               addresses; default: localhost 127.0.0.1 ::1
#                               and this host's name)
#   DIR/client.pem, client.key  a client's certificate (portico --cert/--key)
#
# EC P-256 keys, SHA-256, valid 825 days; keys are 0600. Existing files are
# kept (run it again to add nothing); delete DIR to start over. For another
# client: scripts/certs.sh DIR --client NAME makes DIR/NAME.pem and NAME.key.
set -euo pipefail

usage() {
	echo "usage: $0 DIR [SERVER_NAME ...] | $0 DIR --client NAME" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
dir=$1
shift
command -v openssl >/dev/null || { echo "certs.sh: openssl is missing (scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$dir"
umask 077
days=825

key() { [[ -s $1 ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME CN EXTFILE: NAME.pem from NAME.key, signed by the CA.
sign() {
	local name=$1 cn=$2 ext=$3
	[[ -s $dir/$name.pem ]] && return 0
	key "$dir/$name.key"
	openssl req -new -key "$dir/$name.key" -subj "/O=Portico/CN=$cn" -out "$dir/$name.csr"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -days "$days" -sha256 -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
	rm -f "$dir/$name.csr"
	echo "certs.sh: $dir/$name.pem (CN=$cn)" >&2
}

if [[ ! -s $dir/ca.pem ]]; then
	key "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -subj "/O=Portico/CN=Portico CA" -days "$days" \
		-sha256 -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem"
	echo "certs.sh: $dir/ca.pem" >&2
fi

ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
if [[ ${1:-} == --client ]]; then
	[[ $# -eq 2 && $2 =~ ^[A-Za-z0-9._-]+$ ]] || usage
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
	sign "$2" "$2" "$ext"
	exit 0
fi

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(localhost 127.0.0.1 ::1 "$(hostname)")
san=""
for n in "${names[@]}"; do
	if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then
		san+="${san:+,}IP:$n"
	else
		san+="${san:+,}DNS:$n"
	fi
done
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$san" >"$ext"
sign server "${names[0]}" "$ext"
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
sign client "portico-client" "$ext"
chmod 0644 "$dir"/*.pem
