# Sourced by scripts/test (after scripts/lib/scratch-serve.sh): the web console in headless
# Chromium (Debian's chromium and chromium-driver) driven by Selenium (PyPI) against a live
# `lifeboat serve` on 127.0.0.1
# (a free port): scripts/lib/console_check.py. Screenshots of each page are kept in
# ${LIFEBOAT_ARTIFACTS:-.build/artifacts}/console.

# Installs the browser, its driver and Selenium when missing. Returns non-zero when they
# cannot be had: under CI=true the run fails then; elsewhere scripts/test says it skipped.
ensure_browser() {
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
        echo "installing chromium and chromium-driver (Debian packages)" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq >&2 || return 1
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null || return 1
    fi
    if ! python3 -c "import selenium" 2>/dev/null; then
        echo "installing selenium (PyPI)" >&2
        python3 -m pip install --quiet selenium >&2 || return 1
    fi
}

# run_console_check LIFEBOAT: a scratch repository with one backup and a drill plan with two
# approvals; two operator tokens (the person at the browser, a colleague on the API); the
# daemon on a free port; then the browser.
run_console_check() {
    local lifeboat=$1 work port status=0 shots
    shots="${LIFEBOAT_ARTIFACTS:-$PWD/.build/artifacts}/console"
    rm -rf "$shots"
    work=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-console-check.XXXXXX")
    mkdir -p "$work/app"
    echo "pool: 8" >"$work/app/settings.yaml"
    head -c 200000 /dev/urandom >"$work/app/data.bin"
    echo "console check" >"$work/passphrase"
    cat >"$work/lifeboat.yaml" <<YAML
locations:
  - { name: primary, role: PRIMARY, path: $work/primary }
sources:
  - { name: app, kind: files, paths: [$work/app], rpo: 2h }
catalog: { sqlite: $work/catalog.sqlite }
passphrase: { file: $work/passphrase }
YAML
    cat >"$work/plan.yaml" <<YAML
name: app
systemType: IMPORTANT
steps:
  - {name: restore-app, type: RESTORE_BACKUP, source: app}
  - {name: sign-off, type: MANUAL_APPROVAL}
  - {name: verify-app, type: VERIFY_SYSTEM, source: app}
  - {name: close-out, type: MANUAL_APPROVAL}
YAML
    local config=(--config "$work/lifeboat.yaml") token approver
    "$lifeboat" init "${config[@]}" >/dev/null
    "$lifeboat" run app "${config[@]}" >/dev/null
    "$lifeboat" plan create "$work/plan.yaml" "${config[@]}" >/dev/null
    token=$("$lifeboat" token create "${config[@]}" --name browser --role operator | tail -n 1)
    approver=$("$lifeboat" token create "${config[@]}" --name colleague --role operator | tail -n 1)
    start_scratch_serve "$lifeboat" "$work/lifeboat.yaml" "$work/serve.log" || return 1
    port=$SERVE_PORT
    CONSOLE_URL="http://127.0.0.1:$port" CONSOLE_TOKEN="$token" CONSOLE_APPROVER="$approver" CONSOLE_SHOTS="$shots" \
        python3 scripts/lib/console_check.py || status=$?
    stop_scratch_serve
    if [[ $status -ne 0 ]]; then
        echo "the console check failed; the daemon's log is in $work" >&2
        return "$status"
    fi
    rm -rf "$work"
}
