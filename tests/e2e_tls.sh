#!/usr/bin/env bash
# End to end: TLS, client certificates and basic auth through --web.config.file
# (the exporter-toolkit YAML).  Certificates are generated here with openssl,
# into a temporary directory; nothing private is kept.
#  - HTTPS with the right password answers 200; a wrong or missing one 401;
#  - plain HTTP on the TLS port, and TLS below min_version, get no response;
#  - RequireAndVerifyClientCert: no certificate or one from another CA -> 403,
#    a certificate from client_ca_file -> 200;
#  - a bad web config is refused at start with file:line:column.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

inst="tls$$"
work=$(mktemp -d)
pids=()

cleanup() {
	for p in "${pids[@]}"; do stop_pid "$p"; done
	rm -rf "$work"
}
trap cleanup EXIT

command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 0; }

# ---- certificates: a CA, a server certificate for 127.0.0.1, two clients ----
gen() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $1 failed"; exit 1; }; }
cd "$work" || exit 1
gen req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
	-days 2 -subj /CN=shmetrics-test-ca
gen req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
	-subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
gen x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
	-extfile san.ext
gen req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr \
	-subj /CN=prometheus
printf 'extendedKeyUsage=clientAuth\n' >client.ext
gen x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 \
	-extfile client.ext
# issued by the client CA, but for servers only: not a client certificate
gen req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srvonly.key -out srvonly.csr \
	-subj /CN=server-only
printf 'extendedKeyUsage=serverAuth\n' >srvonly.ext
gen x509 -req -in srvonly.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srvonly.crt -days 2 \
	-extfile srvonly.ext
gen req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key \
	-out rogue.crt -days 2 -subj /CN=rogue
cd - >/dev/null || exit 1

# bcrypt of "s3cret" (cost 10); a test fixture, not a secret
hash='$2b$10$EYUfsdyrOJOGF2KdpFP2b.ntcPJmRMBm6hC04xbFd7OHyZgcEUqkq'
cat >"$work/web.yml" <<EOF
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS13
basic_auth_users:
  alice: '$hash'
EOF
cat >"$work/mtls.yml" <<EOF
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
EOF

# start NAME CONFIG: runs an exporter, sets $port
start() {
	"$BIN/shmetrics-exporter" --segments.directory="$work" --instance="$inst" --web.listen-address=127.0.0.1:0 \
		--collector=none --web.config.file="$2" >"$work/$1.log" 2>&1 &
	pids+=($!)
	await_port "$work/$1.log" 10 && return
	cat "$work/$1.log"
	port=0
	return 1
}

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$work/ca.crt" "$@"; }

# ---- TLS and basic auth ----
check "the exporter starts with TLS and basic auth" start tls "$work/web.yml"
url="https://127.0.0.1:$port/metrics"
check "the right password gets 200" test "$(code -u alice:s3cret "$url")" = 200
check "a wrong password gets 401" test "$(code -u alice:wrong "$url")" = 401
check "an unknown user gets 401" test "$(code -u mallory:s3cret "$url")" = 401
check "no credentials get 401 with a Basic challenge" bash -c \
	"curl -s -D - -o /dev/null --max-time 5 --cacert '$work/ca.crt' '$url' |
		grep -qi '^WWW-Authenticate: Basic realm='"
check "the body is served over TLS" bash -c \
	"curl -fsS --max-time 5 --cacert '$work/ca.crt' -u alice:s3cret '$url' |
		grep -q '^shmetrics_exporter_requests_total{code=\"401\"} '"
check "plain HTTP on the TLS port gets no HTTP response" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/metrics")" = 000
check "TLS 1.2 is refused (min_version TLS13)" \
	test "$(code --tls-max 1.2 -u alice:s3cret "$url")" = 000
check "an unverifiable server certificate fails the client" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u alice:s3cret "$url")" = 000

# ---- mutual TLS ----
check "the exporter starts with RequireAndVerifyClientCert" start mtls "$work/mtls.yml"
url="https://127.0.0.1:$port/metrics"
check "no client certificate gets 403" test "$(code "$url")" = 403
check "a client certificate from another CA gets 403" \
	test "$(code --cert "$work/rogue.crt" --key "$work/rogue.key" "$url")" = 403
check "a client certificate from client_ca_file gets 200" \
	test "$(code --cert "$work/client.crt" --key "$work/client.key" "$url")" = 200
check "a server-only certificate from client_ca_file gets 403 (extended key usage)" \
	test "$(code --cert "$work/srvonly.crt" --key "$work/srvonly.key" "$url")" = 403

# ---- a bad web config is refused ----
printf 'tls_server_config:\n  cert_file: server.crt\n  cipher_suites: [ X ]\n' >"$work/bad.yml"
"$BIN/shmetrics-exporter" --segments.directory="$work" --instance="$inst" --web.listen-address=127.0.0.1:0 \
	--collector=none --web.config.file="$work/bad.yml" >"$work/bad.log" 2>&1
rc=$?
check "an unsupported key is refused with exit 78 (got $rc)" test $rc -eq 78
check "the error names file:line:column and the key" \
	grep -q "bad.yml:3:3: not supported by shmetrics: cipher_suites" "$work/bad.log"
printf 'basic_auth_users:\n  bob: notahash\n' >"$work/bad2.yml"
"$BIN/shmetrics-exporter" --segments.directory="$work" --instance="$inst" --web.listen-address=127.0.0.1:0 \
	--collector=none --web.config.file="$work/bad2.yml" >"$work/bad2.log" 2>&1
check "a password that is not a bcrypt hash is refused" \
	grep -q "bad2.yml:2:8: expected a bcrypt hash" "$work/bad2.log"

# ---- the agent judges the web config as the exporter would, before starting it ----
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  max_version: TLS11\n' \
	>"$work/maxonly.yml"
out=$("$BIN/shmetrics-agent" --web.config.file="$work/maxonly.yml" --check-config 2>&1)
rc=$?
check "--check-config takes --web.config.file and refuses max_version below the default min (exit $rc)" \
	test $rc -eq 78
check "... naming the file, line and column, and the fix" \
	grep -q "maxonly.yml:2:3: max_version is below min_version.*set min_version too" <<<"$out"
printf 'tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n' >"$work/notpem.yml"
out=$("$BIN/shmetrics-agent" --web.config.file="$work/notpem.yml" --check-config 2>&1)
check "--check-config refuses a certificate that is not one, as the exporter would at start" \
	bash -c "[ $? -eq 78 ] && grep -q 'notpem.yml:2:3: cert_file and key_file are not a PEM certificate' <<<'$out'"
out=$("$BIN/shmetrics-agent" --web.config.file="$work/web.yml" --check-config 2>&1)
check "--check-config accepts a good web config" test $? -eq 0
mkfifo "$work/fifo.yml"
out=$(timeout 10 "$BIN/shmetrics-agent" --web.config.file="$work/fifo.yml" --check-config 2>&1)
rc=$?
check "a FIFO as web config is refused at once, not waited on (exit $rc)" test $rc -eq 78

finish
