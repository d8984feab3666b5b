#!/usr/bin/env python3
"""A webhook receiver and health endpoint on 127.0.0.1 for the recovery tests.

Prints its port, then serves: POST (any path) appends "POST <path> <body>" as one line
to the file given as the first argument and answers 200; GET /health answers 200, GET
/status/N answers N, anything else 404. A request whose path starts with /hold is logged
first ("GET <path>" for a GET) and answered only once GET /release came (then at once):
a test kills its subject while the request is in flight.
"""
import http.server
import os
import sys
import threading

log_path = sys.argv[1]
released = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log_path, "ab") as f:
            f.write(b"POST " + self.path.encode() + b" " + body.replace(b"\n", b" ") + b"\n")
        self.hold()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def hold(self):
        if self.path.startswith("/hold"):
            released.wait()

    def do_GET(self):
        status = 404
        if self.path.startswith("/hold"):
            with open(log_path, "ab") as f:
                f.write(b"GET " + self.path.encode() + b"\n")
            self.hold()
            status = 200
        elif self.path == "/release":
            released.set()
            status = 200
        elif self.path == "/health":
            status = 200
        elif self.path.startswith("/status/"):
            status = int(self.path.split("/")[-1])
        body = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def end_with_parent():
    # stdin is a pipe the test holds open: it reads EOF once the test process is gone,
    # even one that crashed.
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=end_with_parent, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
