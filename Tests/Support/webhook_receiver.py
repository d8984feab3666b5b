"""A webhook receiver on loopback for the daemon's alert tests.

Listens on 127.0.0.1 (a free port, printed on stdout as `PORT <n>`) and writes the body of
each POST to DIR/<sequence>-<last path element>.json, written under a temporary name and
renamed, so that a test watching DIR sees whole files. Answers 200, or 503 while DIR/down
exists (a receiver that is away).
"""
import http.server
import itertools
import os
import sys

directory = sys.argv[1]
counter = itertools.count(1)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if os.path.exists(os.path.join(directory, "down")):
            self.send_response(503)
            self.end_headers()
            return
        name = "%06d-%s.json" % (next(counter), self.path.strip("/").split("/")[-1] or "root")
        temporary = os.path.join(directory, "." + name)
        with open(temporary, "wb") as f:
            f.write(body)
        os.rename(temporary, os.path.join(directory, name))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
