#!/usr/bin/env python3
"""S3 and replication benchmark: lifeboat against restic on the same moto_server on loopback.

  s3_compare.py --lifeboat PATH [--size-mb 256] [--seed 1] [--markdown FILE]

Starts moto_server on a free 127.0.0.1 port, makes a corpus (../shared/bench/make-corpus.py),
then for each tool: initial backup into a bucket, full restore from it (page cache dropped
before each step when root). Then lifeboat's replication: a local repository of the same
corpus copied to a second directory (`lifeboat replicate --to`), and to the bucket again
from scratch, with throughput in MiB/s. Measures as compare.py does (wait4 on each command).
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_measured, clean_env, corpus_script, tree_bytes, log, MiB, PASSWORD  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_moto():
    """A moto_server on a free 127.0.0.1 port, once it answers: (process, endpoint URL)."""
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/")
            break
        except OSError:
            time.sleep(0.2)
    return moto, f"http://127.0.0.1:{port}"


def drop_caches():
    subprocess.run(["sync"], check=False)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifeboat", required=True)
    ap.add_argument("--size-mb", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--markdown")
    a = ap.parse_args()
    lifeboat = os.path.abspath(a.lifeboat)
    work = tempfile.mkdtemp(prefix="lifeboat-s3bench-")
    moto, endpoint = start_moto()
    rows, notes = [], []
    try:
        corpus = os.path.join(work, "corpus")
        log(f"making a {a.size_mb} MiB corpus")
        subprocess.run([sys.executable, corpus_script(), corpus, "--size-mb", str(a.size_mb), "--seed", str(a.seed)],
                       check=True, stdout=subprocess.DEVNULL)
        size = tree_bytes(corpus) / MiB
        aws = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}
        lb_env = clean_env({**aws, "AWS_ENDPOINT_URL": endpoint, "LIFEBOAT_REPOSITORY": "s3://bench-lifeboat/repo",
                            "LIFEBOAT_PASSWORD": PASSWORD})
        restic_env = clean_env({**aws, "RESTIC_REPOSITORY": f"s3:{endpoint}/bench-restic/repo", "RESTIC_PASSWORD": PASSWORD})
        cache = os.path.join(work, "restic-cache")
        tools = [
            ("lifeboat", lb_env, [lifeboat, "init"], [lifeboat, "backup", corpus], lambda t: [lifeboat, "restore", "latest", "--target", t]),
            ("restic", restic_env, ["restic", "--cache-dir", cache, "init"], ["restic", "--cache-dir", cache, "backup", corpus],
             lambda t: ["restic", "--cache-dir", cache, "restore", "latest", "--target", t]),
        ]
        for name, env, init, backup, restore in tools:
            code, *_ , out, err = run_measured(init, env, None, os.path.join(work, f"{name}-init"))
            if code != 0:
                sys.exit(f"{name} init failed: {err}")
            for step, argv in (("backup to S3", backup), ("restore from S3", restore(os.path.join(work, f"restore-{name}")))):
                drop_caches()
                if step.startswith("backup"):
                    subprocess.run(f"find '{corpus}' -type f -exec cat {{}} + > /dev/null", shell=True, check=True)
                code, wall, cpu, rss, out, err = run_measured(argv, env, None, os.path.join(work, f"{name}-{step[:6]}"))
                if code != 0:
                    sys.exit(f"{name} {step} failed: {err[-4000:]}")
                rows.append((step, name, wall, cpu, rss / 1024))
                log(f"{name}: {step}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss / 1024:.0f} MiB")
        # Replication throughput: a local repository to a directory, and the bucket to a directory.
        local = os.path.join(work, "local")
        env = clean_env({"LIFEBOAT_REPOSITORY": local, "LIFEBOAT_PASSWORD": PASSWORD})
        subprocess.run([lifeboat, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([lifeboat, "backup", corpus], env=env, check=True, stdout=subprocess.DEVNULL)
        for label, source_env, target in (("local directory", env, os.path.join(work, "replica")),
                                          ("S3 bucket (moto)", lb_env, os.path.join(work, "from-s3"))):
            drop_caches()
            code, wall, cpu, rss, out, err = run_measured([lifeboat, "replicate", "--to", target], source_env, None,
                                                          os.path.join(work, "replicate"))
            if code != 0:
                sys.exit(f"replicate from {label} failed: {err}")
            mib = tree_bytes(target) / MiB
            notes.append(f"replicate {mib:.0f} MiB from a {label} to a local directory, verifying every object: "
                         f"{wall:.2f} s ({mib / wall:.0f} MiB/s), {cpu:.2f} s CPU")
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)
    lines = [f"### S3 on loopback (moto_server) and replication, {size:.0f} MiB corpus", "",
             "| step | tool | wall s | CPU s | peak RSS MiB |", "| --- | --- | ---: | ---: | ---: |"]
    lines += [f"| {s} | {t} | {w:.2f} | {c:.2f} | {r:.0f} |" for s, t, w, c, r in rows]
    lines += [""]
    for step in ("backup to S3", "restore from S3"):
        lb = next(w for s, t, w, c, r in rows if s == step and t == "lifeboat")
        rs = next(w for s, t, w, c, r in rows if s == step and t == "restic")
        lines.append(f"- {step}: restic/lifeboat = {rs / lb:.2f}x")
    lines += [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
