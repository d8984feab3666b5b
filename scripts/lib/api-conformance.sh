# Sourced by scripts/test: schemathesis (PyPI) against a live `lifeboat serve` on 127.0.0.1
# (a free port), over the whole of docs/openapi.yaml: every operation, with generated valid
# and invalid (malformed) requests, each answer checked against the document (no 5xx,
# documented status, content type, headers and schema; invalid requests refused).

# Installs schemathesis when missing. Returns non-zero when it cannot be had: under CI=true
# the run fails then; elsewhere scripts/test says the conformance run is skipped.
ensure_schemathesis() {
    if command -v schemathesis >/dev/null 2>&1; then
        return 0
    fi
    echo "installing schemathesis (PyPI)" >&2
    python3 -m pip install --quiet schemathesis >&2 && command -v schemathesis >/dev/null 2>&1
}

# run_api_conformance LIFEBOAT: a scratch repository, catalog and lifeboat.yaml; the daemon
# on a free port; schemathesis with an admin token when `lifeboat token` exists (before
# the token part of issue 14, without one: every guarded operation must then answer 401 as
# documented).
run_api_conformance() {
    local lifeboat=$1 work port serve_pid token="" status=0
    work=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-api-conformance.XXXXXX")
    mkdir -p "$work/app"
    echo "pool: 8" >"$work/app/settings.yaml"
    echo "api conformance" >"$work/passphrase"
    cat >"$work/lifeboat.yaml" <<YAML
locations:
  - { name: primary, role: PRIMARY, path: $work/primary }
sources:
  - { name: app, kind: files, paths: [$work/app] }
catalog: { sqlite: $work/catalog.sqlite }
passphrase: { file: $work/passphrase }
YAML
    "$lifeboat" init --config "$work/lifeboat.yaml" >/dev/null
    if "$lifeboat" token --help >/dev/null 2>&1; then
        token=$("$lifeboat" token create --config "$work/lifeboat.yaml" --name schemathesis --role admin | tail -n 1)
    fi
    "$lifeboat" serve --config "$work/lifeboat.yaml" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 300); do
        port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.log" | head -n 1)
        [[ -n "$port" ]] && break
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.2
    done
    if [[ -z "$port" ]]; then
        echo "lifeboat serve did not start; its log:" >&2
        cat "$work/serve.log" >&2
        kill "$serve_pid" 2>/dev/null || true
        return 1
    fi
    local auth=()
    [[ -n "$token" ]] && auth=(--header "Authorization: Bearer $token")
    # From the scratch folder: schemathesis keeps its example database (.schemathesis/) in the current one.
    (cd "$work" && schemathesis run "http://127.0.0.1:$port/api/openapi.yaml" "${auth[@]}" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
        --max-examples "${LIFEBOAT_SCHEMATHESIS_EXAMPLES:-50}" --generation-deterministic --workers 1 \
        --report junit --report-dir "$work/report") || status=$?
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    if [[ $status -ne 0 ]]; then
        echo "schemathesis found failures; the daemon's log and the report are in $work" >&2
        return "$status"
    fi
    rm -rf "$work"
}
