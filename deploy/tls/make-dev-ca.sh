#!/bin/sh
# Makes a development CA and the certificates for deploy/nats/nats-server-tls.conf (mutual TLS):
#   ca.pem ca.key               the CA (keep ca.key off the machines; anyone with it can make certificates)
#   server.pem server.key       nats-server's certificate, for every NAME given (host names and IPs that
#                               clients dial; default: nats localhost 127.0.0.1)
#   orchestrator.pem/.key, worker.pem/.key, viewer.pem/.key
#                               one client certificate per role (each machine of a role gets that pair)
# in OUT (default deploy/tls/dev, ignored by git). Keys are written mode 600. An OUT that already holds a
# ca.pem is left alone (exit 1): certificates already handed out stay valid.
# For development and tests: ECDSA P-256, valid DAYS days (default 365). Production: your own PKI.
#
#   deploy/tls/make-dev-ca.sh [-o OUT] [-d DAYS] [NAME...]
set -eu
usage() { echo "usage: $0 [-o OUT] [-d DAYS] [NAME...]  (NAME: a host name or IP the server is dialled by)" >&2; exit 2; }
out="$(dirname "$0")/dev"
days=365
while getopts o:d:h opt; do
  case "$opt" in
    o) out=$OPTARG ;;
    d) days=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
case "$days" in '' | *[!0-9]*) echo "$0: -d: expected a whole number of days, got '$days'" >&2; exit 2 ;; esac
[ "$#" -gt 0 ] || set -- nats localhost 127.0.0.1
command -v openssl >/dev/null 2>&1 || {
  echo "$0: needs openssl (Debian/Ubuntu: sudo apt-get install -y openssl)" >&2
  exit 1
}
san=""
for name in "$@"; do
  case "$name" in
    *[!A-Za-z0-9.:-]* | '') echo "$0: '$name' is not a host name or IP" >&2; exit 2 ;;
    *[!0-9.]*) case "$name" in *:*) entry="IP:$name" ;; *) entry="DNS:$name" ;; esac ;;
    *) entry="IP:$name" ;;
  esac
  san="${san:+$san,}$entry"
done
if [ -e "$out/ca.pem" ]; then
  echo "$0: $out/ca.pem exists: left alone (remove $out, or choose another -o)" >&2
  exit 1
fi
mkdir -p "$out"
umask 077
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
cd "$out"
# shellcheck disable=SC2086 # $ec is a list of options
openssl req -x509 $ec -keyout ca.key -out ca.pem -days "$days" -subj "/CN=hpo dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
# sign NAME EXTENSIONS: NAME.key, NAME.pem signed by the CA
sign() {
  printf '%s\n' "$2" > "$1.ext"
  # shellcheck disable=SC2086
  openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days "$days" \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server "subjectAltName=$san
extendedKeyUsage=serverAuth"
for role in orchestrator worker viewer; do
  sign "$role" "extendedKeyUsage=clientAuth"
done
rm -f ca.srl
chmod 644 ./*.pem
echo "$0: CA and certificates in $out (server names: $*)"
