# Sourced by the checks that need a live daemon (api-conformance.sh, console-check.sh):
# `lifeboat serve` on a free loopback port, in the background.

# start_scratch_serve LIFEBOAT CONFIG LOG: starts the daemon and waits for its listening
# line; sets SERVE_PID and SERVE_PORT. Returns non-zero (with the log on stderr) when it
# ends or does not listen within a minute.
start_scratch_serve() {
    local lifeboat=$1 config=$2 log=$3
    SERVE_PORT=""
    "$lifeboat" serve --config "$config" --listen 127.0.0.1:0 >"$log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 1 300); do
        SERVE_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -n 1)
        [[ -n "$SERVE_PORT" ]] && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "lifeboat serve did not start; its log:" >&2
    cat "$log" >&2
    kill "$SERVE_PID" 2>/dev/null || true
    return 1
}

# stop_scratch_serve: SIGTERM, then waits for it to end.
stop_scratch_serve() {
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
}
