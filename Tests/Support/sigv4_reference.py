#!/usr/bin/env python3
"""Signs requests with botocore's S3SigV4Auth, for the differential test of Lifeboat's
signer. Reads a JSON list of {method, host, path, query: [[k, v]], headers: [[k, v]],
body_hex, amz_date, region, access_key, secret_key, token} on stdin and prints one
Authorization header per line."""
import json, sys, urllib.parse
import datetime
import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

for r in json.load(sys.stdin):
    query = "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~") for k, v in r["query"])
    url = "http://" + r["host"] + urllib.parse.quote(r["path"], safe="/-_.~") + ("?" + query if query else "")
    req = AWSRequest(method=r["method"], url=url, data=bytes.fromhex(r["body_hex"]))
    for k, v in r["headers"]:
        req.headers[k] = v
    req.headers["Host"] = r["host"]
    auth = S3SigV4Auth(Credentials(r["access_key"], r["secret_key"], r["token"] or None), "s3", r["region"])
    fixed = datetime.datetime.strptime(r["amz_date"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda: fixed
    auth.add_auth(req)
    print(req.headers["Authorization"])
