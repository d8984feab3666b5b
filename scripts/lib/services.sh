# Sourced by scripts/test: starts the services the tests need on 127.0.0.1, on free ports,
# and stops them when the script exits. Each function returns non-zero, with the reason on
# stderr, when its service cannot be provided: the test command fails then, instead of
# running a suite whose tests of that service would only be skipped.

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
        if ! kill -0 "$S3_SERVER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    echo "moto_server did not start on 127.0.0.1:$port; its log:" >&2
    cat "${TMPDIR:-/tmp}/lifeboat-moto-$port.log" >&2 || true
    return 1
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
        echo "PostgreSQL's server programs (initdb) could not be installed" >&2
        return 1
    fi
    # PostgreSQL refuses root: as root, the clusters run as the `postgres` user.
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "running as root, but there is no postgres user to run the scratch clusters as" >&2
        return 1
    fi
}

# An unprivileged user for tests whose subject must not be root (unreadable files,
# read-only folders): as root, they run it as this user (LIFEBOAT_TEST_UNPRIVILEGED_USER),
# made here when missing.
ensure_unprivileged_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    local user=${LIFEBOAT_TEST_UNPRIVILEGED_USER:-nobody}
    if ! id "$user" >/dev/null 2>&1; then
        user=lifeboat-test
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || {
            echo "cannot make the unprivileged test user $user" >&2
            return 1
        }
    fi
    export LIFEBOAT_TEST_UNPRIVILEGED_USER="$user"
    echo "unprivileged test user: $user" >&2
}

stop_services() {
    [ -n "${S3_SERVER_PID:-}" ] && kill "$S3_SERVER_PID" 2>/dev/null
    return 0
}
