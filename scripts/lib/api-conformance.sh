# Sourced by scripts/test (after scripts/lib/scratch-serve.sh): schemathesis (PyPI)
# against a live `lifeboat serve` on 127.0.0.1
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
    local lifeboat=$1 work port token="" status=0
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
    # Records for the operations that read one, so that schemathesis reaches their handlers
    # rather than only their 404: a backup, a plan and a drill of it.
    cat >"$work/plan.yaml" <<YAML
name: app
systemType: IMPORTANT
steps:
  - {name: restore-app, type: RESTORE_BACKUP, source: app}
  - {name: verify-app, type: VERIFY_SYSTEM, source: app}
YAML
    local backup execution json_id='import json, sys; print(json.load(sys.stdin)["id"].lower())'
    backup=$("$lifeboat" run app --config "$work/lifeboat.yaml" --json | python3 -c "$json_id")
    "$lifeboat" plan create "$work/plan.yaml" --config "$work/lifeboat.yaml" >/dev/null
    execution=$("$lifeboat" recover run app --test --config "$work/lifeboat.yaml" --json | python3 -c "$json_id")
    # Each accepted backup or drill is real work (a backup, a restore into a sandbox): the
    # fuzzer starts at most 10 of each, so that a 2-core CI machine is not swamped. (Dozens
    # of drills at once make the SQLite catalog's writers queue past a client's timeout.)
    cat >"$work/schemathesis.toml" <<TOML
generation.max-examples = ${LIFEBOAT_SCHEMATHESIS_EXAMPLES:-50}

[[operations]]
include-operation-id = ["performBackup", "executeRecovery", "resumeExecution"]
generation = { max-examples = 10 }

[[operations]]
include-operation-id = "getBackup"
parameters = { "path.id" = "$backup" }

[[operations]]
include-operation-id = ["getExecution", "approveExecutionStep", "cancelExecution", "resumeExecution"]
parameters = { "path.id" = "$execution" }

[[operations]]
include-operation-id = ["getPlan", "listPlanRevisions"]
parameters = { "path.name" = "app" }
TOML
    if "$lifeboat" token --help >/dev/null 2>&1; then
        token=$("$lifeboat" token create --config "$work/lifeboat.yaml" --name schemathesis --role admin | tail -n 1)
    fi
    start_scratch_serve "$lifeboat" "$work/lifeboat.yaml" "$work/serve.log" || return 1
    port=$SERVE_PORT
    local auth=()
    [[ -n "$token" ]] && auth=(--header "Authorization: Bearer $token")
    # From the scratch folder: schemathesis keeps its example database (.schemathesis/) in the current one.
    (cd "$work" && schemathesis run "http://127.0.0.1:$port/api/openapi.yaml" "${auth[@]}" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
        --generation-deterministic --workers 1 --request-timeout 30 \
        --report junit --report-dir "$work/report") || status=$?
    stop_scratch_serve
    if [[ $status -ne 0 ]]; then
        echo "schemathesis found failures; the daemon's log and the report are in $work" >&2
        return "$status"
    fi
    rm -rf "$work"
}
