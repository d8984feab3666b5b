# Sourced by scripts/test: starts the services the tests need on 127.0.0.1, on free ports,
# and stops them when the script exits.

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# moto_server, an S3-compatible server (PyPI's moto[server]); botocore comes with it and is
# the reference the SigV4 tests compare against.
start_s3_server() {
    if ! python3 -c 'import moto.server, botocore, flask_cors' >/dev/null 2>&1; then
        echo "installing moto[server] (PyPI)" >&2
        python3 -m pip install --quiet 'moto[server]' boto3 >&2
    fi
    local port
    port=$(free_port)
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"${TMPDIR:-/tmp}/lifeboat-moto-$port.log" 2>&1 &
    S3_SERVER_PID=$!
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" >/dev/null 2>&1; then
            export LIFEBOAT_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
            echo "S3 server (moto) on $LIFEBOAT_TEST_S3_ENDPOINT" >&2
            return 0
        fi
        sleep 0.2
    done
    echo "moto_server did not start: the S3 tests will be reported as skipped" >&2
}

# PostgreSQL's server programs (Debian's packages): the PostgreSQL tests start a scratch
# cluster of their own for each test, on 127.0.0.1 with a free port, as the unprivileged
# `postgres` user when the suite runs as root (PostgreSQL refuses root).
ensure_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || ! command -v pgbench >/dev/null 2>&1; then
        echo "installing postgresql (Debian packages)" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql postgresql-contrib >/dev/null
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    fi
    # Debian's package starts a cluster of its own on 5432; the tests do not use it.
    if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
        export LIFEBOAT_TEST_POSTGRES_BIN="$bin"
        echo "PostgreSQL programs in $LIFEBOAT_TEST_POSTGRES_BIN" >&2
    else
        echo "PostgreSQL is not installed: the PostgreSQL tests will be reported as skipped" >&2
    fi
}

stop_services() {
    [ -n "${S3_SERVER_PID:-}" ] && kill "$S3_SERVER_PID" 2>/dev/null
    return 0
}
