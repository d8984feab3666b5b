#!/usr/bin/env python3
"""Many writers, one repository: four hosts back up into one S3 repository at once (a
moto_server on loopback), a prune is started while they run, then `check --read-data`, a
restore of each host's snapshot compared with its source, and a second prune that removes
what the concurrent backups stored more than once.

  many_writers.py --lifeboat PATH [--shared-mb 64] [--unique-mb 16] [--hosts 4] [--markdown FILE]

Each host's directory holds a copy of one shared corpus (the same files on every host) and
a corpus of its own. Backups that run at the same time cannot see each other's new blobs,
so the shared content may be stored once per host; prune keeps one copy of each blob. The
table shows the repository's size against the content stored once, before and after.

A prune takes the repository's exclusive lock, so it cannot start while a backup holds a
shared one: the script retries it every half second and reports how long it waited, and
how long the prune then held the lock (during which a backup would be refused).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_measured, clean_env, corpus_script, tree_bytes, log, MiB, PASSWORD, manifest, compare_trees  # noqa: E402
from s3_compare import start_moto  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lifeboat", required=True)
    ap.add_argument("--shared-mb", type=int, default=64)
    ap.add_argument("--unique-mb", type=int, default=16)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--markdown")
    a = ap.parse_args()
    lifeboat = os.path.abspath(a.lifeboat)
    work = tempfile.mkdtemp(prefix="lifeboat-writers-")
    moto, endpoint = start_moto()
    lines, problems = [], {}
    try:
        env = clean_env({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
                         "AWS_ENDPOINT_URL": endpoint, "LIFEBOAT_REPOSITORY": "s3://writers/repo", "LIFEBOAT_PASSWORD": PASSWORD})
        shared = os.path.join(work, "shared")
        subprocess.run([sys.executable, corpus_script(), shared, "--size-mb", str(a.shared_mb), "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
        hosts = [f"host{i + 1}" for i in range(a.hosts)]
        sources = {}
        for i, host in enumerate(hosts):
            source = os.path.join(work, host)
            os.makedirs(source)
            subprocess.run(["cp", "-a", shared, os.path.join(source, "shared")], check=True)
            subprocess.run([sys.executable, corpus_script(), os.path.join(source, "own"), "--size-mb", str(a.unique_mb), "--seed", str(100 + i)],
                           check=True, stdout=subprocess.DEVNULL)
            sources[host] = source
        content = tree_bytes(shared) + sum(tree_bytes(os.path.join(sources[h], "own")) for h in hosts)
        log(f"{a.hosts} hosts, each {a.shared_mb} MiB shared + {a.unique_mb} MiB of its own: {content / MiB:.0f} MiB of distinct content")
        subprocess.run([lifeboat, "init"], env=env, check=True, stdout=subprocess.DEVNULL)

        results = {}

        def backup(host):
            code, wall, cpu, rss, out, err = run_measured([lifeboat, "backup", sources[host], "--host", host, "--json"], env, None,
                                                          os.path.join(work, f"{host}-backup"))
            results[host] = (code, wall, rss / 1024, out, err)

        started = time.monotonic()
        threads = [threading.Thread(target=backup, args=(h,)) for h in hosts]
        for t in threads:
            t.start()
        # The prune, once a backup holds its lock: refused until every backup is done.
        while any(t.is_alive() for t in threads) and not lock_listed(endpoint):
            time.sleep(0.05)
        prune_started = time.monotonic()
        attempts, refusals, after_backups = 0, [], None
        while True:
            # Before each attempt: the one that succeeds found every backup done, so this is
            # what they stored, before the prune removed a copy.
            after_backups = bucket_bytes(endpoint, "repo/data/")
            attempts += 1
            code, wall, cpu, rss, out, err = run_measured([lifeboat, "prune", "--pack-grace", "0"], env, None, os.path.join(work, "prune-during"))
            if code == 0:
                break
            refusals.append(err.strip().splitlines()[-1] if err.strip() else f"exit {code}")
            if not any(t.is_alive() for t in threads) and attempts > 3:
                sys.exit(f"many_writers.py: prune fails with no backup running: {err}")
            time.sleep(0.5)
        prune_waited = time.monotonic() - prune_started - wall
        for t in threads:
            t.join()
        backups_wall = max(r[1] for r in results.values())
        for host, (code, *_rest, out, err) in results.items():
            if code != 0:
                sys.exit(f"many_writers.py: backup of {host} failed: {err}")
        added = sum(json.loads(r[3]).get("bytesAdded", 0) for r in results.values())
        log(f"backups: {backups_wall:.2f} s for all {a.hosts} at once; prune refused {attempts - 1} times "
            f"({refusals[0] if refusals else 'never'}), waited {prune_waited:.2f} s, ran {wall:.2f} s")

        code, check_wall, _c, check_rss, out, err = run_measured([lifeboat, "check", "--read-data"], env, None, os.path.join(work, "check"))
        if code != 0:
            sys.exit(f"many_writers.py: check --read-data failed after the concurrent backups: {out}{err}")
        for host in hosts:
            target = os.path.join(work, f"restore-{host}")
            listing = subprocess.run([lifeboat, "snapshots", "--host", host, "--json"], env=env, check=True, capture_output=True, text=True).stdout
            snapshot = max(json.loads(listing), key=lambda s: s["time"])["id"]
            code, *_x, out, err = run_measured([lifeboat, "restore", snapshot, "--target", target], env, None,
                                               os.path.join(work, f"{host}-restore"))
            if code != 0:
                sys.exit(f"many_writers.py: restore of {host} failed: {err}")
            problems[host] = compare_trees(manifest(sources[host]), manifest(os.path.join(target, sources[host].lstrip("/"))))
            shutil.rmtree(target, ignore_errors=True)
        code, wall2, _c, rss2, out2, err2 = run_measured([lifeboat, "prune", "--pack-grace", "0"], env, None, os.path.join(work, "prune-after"))
        if code != 0:
            sys.exit(f"many_writers.py: the second prune failed: {err2}")
        after = bucket_bytes(endpoint, "repo/data/")
        code, *_x, out, err = run_measured([lifeboat, "check", "--read-data"], env, None, os.path.join(work, "check-after"))
        if code != 0:
            sys.exit(f"many_writers.py: check --read-data failed after the second prune: {out}{err}")

        lines += [f"### {a.hosts} hosts backing up into one S3 repository at once (moto_server on loopback)", "",
                  f"Each host: {a.shared_mb} MiB shared with the others + {a.unique_mb} MiB of its own; "
                  f"{content / MiB:.0f} MiB of distinct content in all.", "",
                  "| what | measured |", "| --- | --- |",
                  f"| the {a.hosts} backups, at once | {backups_wall:.2f} s (slowest); peak RSS {max(r[2] for r in results.values()):.0f} MiB each at most |",
                  f"| what the backups stored | {added / MiB:.0f} MiB added, {after_backups[0] / MiB:.0f} MiB in {after_backups[1]} packs "
                  f"(runs at the same time cannot see each other's new blobs, so shared content can be stored by each) |",
                  f"| prune started while they ran | refused {attempts - 1} times (the backups' shared locks); "
                  f"waited {prune_waited:.2f} s for the backups, then held the exclusive lock {wall:.2f} s, keeping one copy of each blob |",
                  f"| check --read-data | clean, {check_wall:.2f} s, {check_rss / 1024:.0f} MiB |",
                  "| every host's latest snapshot restored and compared | "
                  + ("identical" if not any(problems.values()) else f"DIFFERENT: {problems}") + " |",
                  f"| after the prune | {after[0] / MiB:.0f} MiB in {after[1]} packs; a second prune found nothing to do "
                  f"({wall2:.2f} s, {rss2 / 1024:.0f} MiB); check --read-data clean |",
                  ""]
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text + "\n")
    if any(problems.values()):
        sys.exit(1)


def bucket_bytes(endpoint, prefix):
    """(bytes, objects) under `prefix` of the bucket, by ListObjectsV2 (moto does not check signatures)."""
    total, count, token = 0, 0, None
    while True:
        query = f"list-type=2&prefix={prefix}" + (f"&continuation-token={urllib.parse.quote(token)}" if token else "")
        with urllib.request.urlopen(f"{endpoint}/writers?{query}") as r:
            root = ET.fromstring(r.read())
        ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
        for item in root.iter(ns + "Contents"):
            total += int(item.find(ns + "Size").text)
            count += 1
        token_element = root.find(ns + "NextContinuationToken")
        if token_element is None or not token_element.text:
            return total, count
        token = token_element.text


def lock_listed(endpoint):
    """Whether the repository has a lock object now (moto does not check signatures)."""
    try:
        with urllib.request.urlopen(f"{endpoint}/writers?list-type=2&prefix=repo/locks/") as r:
            return b"<Key>" in r.read()
    except OSError:
        return False


if __name__ == "__main__":
    main()
