#!/usr/bin/env python3
"""A test proxy in front of an S3-compatible server (moto) on 127.0.0.1.

  s3proxy.py --upstream http://127.0.0.1:PORT [--verify-signatures] [--fail-every N]
             [--cut-every N] [--stall-every N --stall-seconds S] [--reset-every N]
             [--kinds GET,LIST,HEAD,PUT,POST,DELETE] [--pad-listings BYTES] [--ignore-range]

--verify-signatures recomputes each request's SigV4 signature with botocore (access key
and secret "test"/"test") and answers 403 SignatureDoesNotMatch when it differs: moto's own
check is wrong for query values containing '/'. The fault options answer 503, cut a GET
body short (the Content-Length still promises all of it), or stall past the client's
timeout, on every Nth request; --reset-every closes the connection without an answer.
--kinds limits the faults to some request kinds (LIST is a ListObjectsV2 GET, GET any other
GET); requests of other kinds are still counted. --pad-listings pads every listing page with
an XML comment of that many bytes (a well-formed but oversized answer); --ignore-range drops
the Range header, as a server that ignores it. Listens on a free port and prints it, one
line on stdout, once it listens: the caller waits for that line.
"""
import argparse, http.client, json, socketserver, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import datetime
import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

args = None
counter = 0
lock = threading.Lock()

def expected_authorization(method, path, headers, body):
    lower = {k.lower(): v for k, v in headers.items()}
    authorization = lower.get("authorization", "")
    signed = authorization.split("SignedHeaders=")[-1].split(",")[0].split(";")
    region = authorization.split("Credential=")[-1].split("/")[2] if "Credential=" in authorization else "us-east-1"
    url = "http://" + lower["host"] + path
    req = AWSRequest(method=method, url=url, data=body)
    for name in signed:
        if name in lower and name != "authorization":
            req.headers[name] = lower[name]
    amz_date = lower.get("x-amz-date", "")
    auth = S3SigV4Auth(Credentials("test", "test", lower.get("x-amz-security-token")), "s3", region)
    fixed = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    with lock:  # the clock patch is process-wide
        botocore.auth.get_current_datetime = lambda: fixed
        auth.add_auth(req)
    return req.headers["Authorization"]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        global counter
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            counter += 1
            n = counter
            if args.log:
                with open(args.log, "a") as f:
                    f.write(json.dumps({"method": self.command, "path": self.path,
                                        "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
        kind = "LIST" if self.command == "GET" and "list-type=2" in self.path else self.command
        faulty = args.kinds is None or kind in args.kinds.split(",")
        if faulty and args.reset_every and n % args.reset_every == 0:
            # Drop the connection with no answer at all: the client sees a reset or EOF.
            import socket
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if faulty and args.fail_every and n % args.fail_every == 0:
            code = b"SlowDown" if n % 2 == 0 else b"InternalError"
            return self.reply(503 if code == b"SlowDown" else 500, b"<Error><Code>" + code + b"</Code></Error>")
        if faulty and args.stall_every and n % args.stall_every == 0:
            time.sleep(args.stall_seconds)
            return self.reply(503, b"<Error><Code>Stalled</Code></Error>")
        if args.verify_signatures:
            headers = {k: v for k, v in self.headers.items()}
            got = headers.get("Authorization", "")
            want = expected_authorization(self.command, self.path, headers, body)
            if got != want:
                sys.stderr.write(f"signature mismatch for {self.command} {self.path}\n  got  {got}\n  want {want}\n")
                return self.reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        up = urllib.parse.urlparse(args.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        dropped = ("connection", "range") if args.ignore_range else ("connection",)
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
        conn.request(self.command, self.path, body=body if body else None, headers=fwd)
        resp = conn.getresponse()
        data = resp.read()
        if args.pad_listings and kind == "LIST" and resp.status == 200:
            data = data.replace(b"</ListBucketResult>", b"<!--" + b"x" * args.pad_listings + b"--></ListBucketResult>")
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
        if faulty and args.cut_every and self.command == "GET" and n % args.cut_every == 0 and len(data) > 10:
            self.send_response(resp.status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        length = resp.getheader("Content-Length") if self.command == "HEAD" else None
        self.reply(resp.status, data, headers, length)

    def reply(self, status, data, headers=(), length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        # A HEAD answer states the object's length, though it carries no body.
        self.send_header("Content-Length", length if length is not None else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True

def main():
    global args
    # The test process may spawn us from a thread that blocks signals; a blocked SIGTERM
    # would keep this proxy alive after the test is done.
    import signal
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--verify-signatures", action="store_true")
    p.add_argument("--fail-every", type=int, default=0)
    p.add_argument("--cut-every", type=int, default=0)
    p.add_argument("--stall-every", type=int, default=0)
    p.add_argument("--stall-seconds", type=float, default=5)
    p.add_argument("--reset-every", type=int, default=0)
    p.add_argument("--kinds", help="comma-separated request kinds the faults hit: GET,LIST,HEAD,PUT,POST,DELETE")
    p.add_argument("--pad-listings", type=int, default=0)
    p.add_argument("--ignore-range", action="store_true")
    p.add_argument("--log", help="append each request's method, path and headers as a JSON line")
    args = p.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()

if __name__ == "__main__":
    main()
