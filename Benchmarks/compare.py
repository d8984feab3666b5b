#!/usr/bin/env python3
"""Side-by-side benchmark: lifeboat, restic and borg on one generated corpus.

Python 3.9+ standard library only. For every tool, in the same order:

  (a) initial backup        (b) no-change backup
  -- the corpus is mutated once (make-corpus.py mutate --percent 2), after all tools did (a), (b) --
  (c) backup after the 2% change
  (d) full restore of the latest snapshot into an empty directory (removed afterwards)
  (e) check with full data verification
  (f) full restore into tmpfs (/dev/shm, when it has room): the restore without the disk's
      file creation, i.e. reading, decrypting and decompressing (removed afterwards)

Each step is timed: wall time, CPU time (user+sys of the child and its waited-for
descendants, from os.wait4), peak RSS (ru_maxrss from os.wait4; see LAUNCHER) and the repository's
size after the step (apparent bytes of every file under the repository directory).
Prints a Markdown report (optionally also written to --markdown FILE). Any tool failing
a step makes the script exit non-zero, showing that tool's stderr.

  compare.py --lifeboat PATH [--size-mb 1024] [--seed 1] [--work DIR] [--keep]
             [--tools lifeboat,restic,borg] [--markdown FILE] [--no-verify-restore]
             [--shape mixed|one-big-file|small-files] [--files 200000]

--shape picks the corpus: make-corpus.py's mixed tree (default), one file of --size-mb
MiB, or --files files of 1-4 KiB (Benchmarks/shapes.py).

The corpus generator is ../shared/bench/make-corpus.py relative to the repository root,
or, when that does not exist, the file named by $LIFEBOAT_BENCH_CORPUS_SCRIPT.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

MiB = 1 << 20
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "benchpass"
STEPS = [
    ("a", "initial backup"),
    ("b", "no-change backup"),
    ("c", "backup after 2% change"),
    ("d", "full restore"),
    ("e", "check --read-data"),
    ("f", "restore to tmpfs"),
]
STEP_NAME = dict(STEPS)
ALL_TOOLS = ["lifeboat", "restic", "borg"]


class StepFailed(Exception):
    def __init__(self, tool, step, argv, code, stderr):
        super().__init__(f"{tool} step {step} failed")
        self.tool, self.step, self.argv, self.code, self.stderr = tool, step, argv, code, stderr


def log(msg):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def corpus_script():
    rel = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "bench", "make-corpus.py"))
    if os.path.isfile(rel):
        return rel
    env = os.environ.get("LIFEBOAT_BENCH_CORPUS_SCRIPT")
    if env and os.path.isfile(env):
        return env
    sys.exit(f"compare.py: corpus generator not found at {rel}; set LIFEBOAT_BENCH_CORPUS_SCRIPT to make-corpus.py")


def clean_env(extra):
    """The caller's environment without any other repository or passphrase settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFEBOAT_", "RESTIC_", "BORG_"))}
    env.update(extra)
    return env


# Linux carries a process's RSS high-water mark across execve into ru_maxrss, and
# subprocess starts children with vfork, so a child started straight from this (large)
# interpreter would report at least this interpreter's peak RSS. A fresh, minimal
# interpreter (about 8 MiB) therefore starts each measured command and reports the
# command's os.wait4 resource usage; ru_maxrss is a maximum, not a sum, so that floor
# only shows for commands that stay below it.
LAUNCHER = r"""
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
try:
    pid = os.posix_spawnp(argv[0], argv, os.environ)
except OSError as e:
    print(f"cannot start {argv[0]}: {e}", file=sys.stderr)
    sys.exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
with open(out, "w") as f:
    json.dump({"code": os.waitstatus_to_exitcode(status), "wall": wall,
               "cpu": ru.ru_utime + ru.ru_stime, "maxrss": ru.ru_maxrss}, f)
"""


def run_measured(argv, env, cwd, logbase):
    """Run argv to completion; return (code, wall s, cpu s, maxrss KiB, stdout, stderr).

    Wall time, user+sys CPU time and ru_maxrss all come from os.wait4 on the command
    itself (in the launcher above), so they include its waited-for descendants."""
    result = logbase + ".rusage.json"
    if os.path.exists(result):
        os.remove(result)
    with open(logbase + ".out", "wb") as out, open(logbase + ".err", "wb") as err:
        r = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, result] + argv, env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    with open(logbase + ".out", "rb") as f:
        stdout = f.read().decode(errors="replace")
    with open(logbase + ".err", "rb") as f:
        stderr = f.read().decode(errors="replace")
    try:
        with open(result) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return r.returncode or 127, 0.0, 0.0, 0, stdout, stderr or f"launcher exited {r.returncode}"
    return m["code"], m["wall"], m["cpu"], m["maxrss"], stdout, stderr


def run_plain(argv, env=None, cwd=None, what=""):
    r = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise StepFailed(what or argv[0], "setup", argv, r.returncode, r.stderr + r.stdout)
    return r.stdout


def tree_bytes(path):
    """Apparent size of every regular file (and symlink) under path."""
    total = 0
    for d, dirs, files in os.walk(path):
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            try:
                total += os.lstat(os.path.join(d, n)).st_size
            except FileNotFoundError:
                pass
    return total


def manifest(root):
    """{relative path: (kind, size or link target, content digest, mtime s)} of a tree."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in sorted(files + dirs):
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p), None, None)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None, None)
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha1()
                with open(p, "rb") as f:
                    while True:
                        b = f.read(4 * MiB)
                        if not b:
                            break
                        h.update(b)
                out[rel] = ("file", st.st_size, h.hexdigest(), int(st.st_mtime))
            else:
                out[rel] = ("other", stat.S_IFMT(st.st_mode), None, None)
    return out


def compare_trees(expected, actual):
    """Human-readable differences, content first; mtimes of regular files too."""
    problems = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[:3]})")
    if extra:
        problems.append(f"{len(extra)} unexpected (e.g. {extra[:3]})")
    content = [p for p in expected if p in actual and expected[p][:3] != actual[p][:3]]
    if content:
        p = content[0]
        problems.append(f"{len(content)} differ in type/size/content/mode (e.g. {p!r}: {expected[p][:2]} vs {actual[p][:2]})")
    mtimes = [p for p in expected if p in actual and expected[p][0] == "file" and expected[p][:3] == actual[p][:3]
              and expected[p][3] != actual[p][3]]
    if mtimes:
        problems.append(f"{len(mtimes)} files with a different mtime (e.g. {mtimes[0]!r})")
    return problems


class Tool:
    name = ""

    def __init__(self, work):
        self.work = work
        self.repo = os.path.join(work, f"repo-{self.name}")
        self.snapshots = 0
        self.notes = []

    def env(self):
        return clean_env({})

    def init_argv(self):
        raise NotImplementedError

    def backup_argv(self, corpus):
        raise NotImplementedError

    def restore(self, target):
        """(argv, cwd) restoring the latest snapshot so the corpus lands at target/<abs path>."""
        raise NotImplementedError

    def check_argv(self):
        raise NotImplementedError

    def after_backup(self, step, stdout):
        pass


class Lifeboat(Tool):
    name = "lifeboat"

    def __init__(self, work, binary):
        super().__init__(work)
        self.binary = binary

    def env(self):
        return clean_env({"LIFEBOAT_REPOSITORY": self.repo, "LIFEBOAT_PASSWORD": PASSWORD})

    def version(self):
        return run_plain([self.binary, "--version"], self.env(), what="lifeboat --version").strip()

    def init_argv(self):
        return [self.binary, "init"]

    def backup_argv(self, corpus):
        return [self.binary, "backup", corpus, "--json"]

    def restore(self, target):
        return [self.binary, "restore", "latest", "--target", target], None

    def check_argv(self):
        return [self.binary, "check", "--read-data"]

    def after_backup(self, step, stdout):
        try:
            j = json.loads(stdout)
        except ValueError:
            self.notes.append(f"({step}) backup --json printed no JSON document: {stdout[:200]!r}")
            return
        self.notes.append(
            f"({step}) {j.get('type')}: {j.get('filesNew')} new, {j.get('filesChanged')} changed, "
            f"{j.get('filesUnmodified')} unmodified files; read {j.get('bytesRead', 0) / MiB:.1f} MiB, "
            f"added {j.get('bytesAdded', 0) / MiB:.1f} MiB in {j.get('blobsAdded')} blobs "
            f"(self-reported {j.get('durationSeconds', 0):.2f} s)"
            + (f"; warnings: {j['warnings']}" if j.get("warnings") else ""))


class Restic(Tool):
    name = "restic"

    def __init__(self, work):
        super().__init__(work)
        self.cache = os.path.join(work, "restic-cache")

    def env(self):
        return clean_env({"RESTIC_REPOSITORY": self.repo, "RESTIC_PASSWORD": PASSWORD})

    def version(self):
        return run_plain(["restic", "version"], self.env(), what="restic version").strip()

    def init_argv(self):
        return ["restic", "--cache-dir", self.cache, "init"]

    def backup_argv(self, corpus):
        return ["restic", "--cache-dir", self.cache, "backup", corpus]

    def restore(self, target):
        return ["restic", "--cache-dir", self.cache, "restore", "latest", "--target", target], None

    def check_argv(self):
        return ["restic", "--cache-dir", self.cache, "check", "--read-data"]

    def after_backup(self, step, stdout):
        m = re.search(r"^Added to the repo(?:sitory)?: (.*)$", stdout, re.M)
        f = re.search(r"^Files:\s+(.*)$", stdout, re.M)
        if m:
            self.notes.append(f"({step}) files: {f.group(1).strip() if f else '?'}; added to the repository: {m.group(1).strip()}")


class Borg(Tool):
    name = "borg"

    def env(self):
        return clean_env({
            "BORG_PASSPHRASE": PASSWORD,
            "BORG_BASE_DIR": os.path.join(self.work, "borg-base"),
            "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
            "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
            "BORG_DISPLAY_PASSPHRASE": "n",
        })

    def version(self):
        return run_plain(["borg", "--version"], self.env(), what="borg --version").strip()

    def init_argv(self):
        return ["borg", "init", "-e", "repokey", self.repo]

    def backup_argv(self, corpus):
        self.snapshots += 1
        return ["borg", "create", "--compression", "lz4", f"{self.repo}::snap{self.snapshots}", corpus]

    def restore(self, target):
        # borg extracts the archive's (leading-slash-stripped) paths relative to the cwd
        return ["borg", "extract", f"{self.repo}::snap{self.snapshots}"], target

    def check_argv(self):
        return ["borg", "check", "--verify-data", self.repo]


class Bench:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.corpus = os.path.join(work, "corpus")
        self.logs = os.path.join(work, "logs")
        self.results = {}       # (tool, step) -> dict
        self.sizes = {}         # (tool, "init") -> bytes
        self.restore_problems = {}
        self.expected = None
        self.tools = []
        for t in args.tools:
            if t == "lifeboat":
                self.tools.append(Lifeboat(work, os.path.abspath(args.lifeboat)))
            elif t == "restic":
                self.tools.append(Restic(work))
            elif t == "borg":
                self.tools.append(Borg(work))
        self.versions = {}
        self.source = source_state() if "lifeboat" in args.tools else ""
        self.mutate_summary = ""
        self.corpus_summary = ""
        self.limit = None  # (stages line, limit CPU-s, limit s on the cores) from `lifeboat-benchmarks limit`

    def prepare(self, step):
        """The same cache state for every tool: repositories cold (as after a disaster, and
        lifeboat writes packs past the page cache while restic and borg leave theirs
        cached), the corpus warm for backups."""
        subprocess.run(["sync"], check=False)
        try:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        except OSError:
            if not getattr(self, "warned_caches", False):
                log("cannot drop the page cache (not root): repositories may be cached unevenly")
                self.warned_caches = True
        if step in ("a", "b", "c"):
            subprocess.run(f"find {shq(self.corpus)} -type f -exec cat {{}} + > /dev/null", shell=True, check=True)

    def measure_limit(self):
        """The initial backup's limit on this corpus: `lifeboat-benchmarks limit` runs each stage
        of the byte path over every byte, one core, and sums their CPU time (untimed here)."""
        if not self.args.lifeboat:
            return
        tool = self.args.benchmarks or os.path.join(os.path.dirname(os.path.abspath(self.args.lifeboat)), "lifeboat-benchmarks")
        if not os.path.exists(tool):
            log(f"no {tool}: the limit line is left out (build it, or pass --benchmarks)")
            return
        cores = os.cpu_count() or 1
        log("summing the byte path's stage costs over the corpus (lifeboat-benchmarks limit; untimed)")
        out = run_plain([tool, "limit", self.corpus, "--cores", str(cores)], what="lifeboat-benchmarks limit")
        stages = next((l for l in out.splitlines() if l.startswith("stages")), "")
        m = re.search(r"limit: ([0-9.]+) CPU-s, ([0-9.]+) s on", out)
        if m:
            self.limit = (stages, float(m.group(1)), float(m.group(2)), cores)
            log(out.strip())

    def tmpfs_target(self, tool):
        """A directory in /dev/shm for step (f), when it is a tmpfs with room for the corpus twice."""
        try:
            st = os.statvfs("/dev/shm")
        except OSError:
            return None
        if st.f_bavail * st.f_frsize < 2 * tree_bytes(self.corpus):
            if not getattr(self, "warned_tmpfs", False):
                log("/dev/shm has no room for the corpus twice: step (f), restore to tmpfs, is left out")
                self.warned_tmpfs = True
            return None
        return os.path.join("/dev/shm", f"lifeboat-bench-{os.getpid()}-{tool}")

    def step(self, tool, step, argv, cwd=None):
        self.prepare(step)
        log(f"{tool.name}: ({step}) {STEP_NAME.get(step, step)}: {' '.join(argv)}")
        code, wall, cpu, rss, out, err = run_measured(argv, tool.env(), cwd, os.path.join(self.logs, f"{tool.name}-{step}"))
        if code != 0:
            raise StepFailed(tool.name, step, argv, code, err or out)
        size = tree_bytes(tool.repo)
        self.results[(tool.name, step)] = {"wall": wall, "cpu": cpu, "rss": rss / 1024, "repo": size / MiB}
        log(f"{tool.name}: ({step}) {wall:.2f} s wall, {cpu:.2f} s CPU, {rss / 1024:.0f} MiB peak RSS, repo {size / MiB:.1f} MiB")
        return out

    def run(self):
        os.makedirs(self.logs, exist_ok=True)
        for t in self.tools:
            self.versions[t.name] = t.version()
        script = corpus_script()
        shape = self.args.shape
        if shape == "one-big-file":
            log(f"making one file of {self.args.size_mb} MiB (seed {self.args.seed})")
            self.corpus_summary = shapes.make_one_big_file(self.corpus, self.args.size_mb, self.args.seed)
        elif shape == "small-files":
            log(f"making {self.args.files} files of 1-4 KiB (seed {self.args.seed})")
            self.corpus_summary = shapes.make_small_files(self.corpus, self.args.files, self.args.seed)
        else:
            log(f"making a {self.args.size_mb} MiB corpus (seed {self.args.seed}) with {script}")
            self.corpus_summary = run_plain([sys.executable, script, self.corpus, "--size-mb", str(self.args.size_mb),
                                             "--seed", str(self.args.seed)], what="make-corpus.py").strip()
        log(self.corpus_summary)
        log("warming the corpus (cat to /dev/null)")
        subprocess.run(f"find {shq(self.corpus)} -type f -exec cat {{}} + > /dev/null", shell=True, check=True)
        self.measure_limit()

        for t in self.tools:
            log(f"{t.name}: init")
            code, _, _, _, out, err = run_measured(t.init_argv(), t.env(), None, os.path.join(self.logs, f"{t.name}-init"))
            if code != 0:
                raise StepFailed(t.name, "init", t.init_argv(), code, err or out)
            self.sizes[(t.name, "init")] = tree_bytes(t.repo) / MiB
            t.after_backup("a", self.step(t, "a", t.backup_argv(self.corpus)))
            t.after_backup("b", self.step(t, "b", t.backup_argv(self.corpus)))

        log("mutating the corpus: 2%")
        if shape == "one-big-file":
            self.mutate_summary = shapes.mutate_one_big_file(self.corpus, 2, self.args.seed)
        elif shape == "small-files":
            self.mutate_summary = shapes.mutate_small_files(self.corpus, 2, self.args.seed)
        else:
            self.mutate_summary = run_plain([sys.executable, script, "mutate", self.corpus, "--percent", "2"],
                                            what="make-corpus.py mutate").strip()
        log(self.mutate_summary)
        if self.args.verify_restore:
            log("hashing the mutated corpus for the restore comparison (untimed)")
            self.expected = manifest(self.corpus)

        for t in self.tools:
            t.after_backup("c", self.step(t, "c", t.backup_argv(self.corpus)))
            target = os.path.join(self.work, f"restore-{t.name}")
            os.makedirs(target)
            argv, cwd = t.restore(target)
            self.step(t, "d", argv, cwd)
            if self.expected is not None:
                restored = os.path.join(target, self.corpus.lstrip("/"))
                if not os.path.isdir(restored):
                    self.restore_problems[t.name] = [f"{restored} does not exist after the restore"]
                else:
                    self.restore_problems[t.name] = compare_trees(self.expected, manifest(restored))
                log(f"{t.name}: restore comparison: {self.restore_problems[t.name] or 'identical'}")
            # Restored trees stay until the end: ext4 creates files slowly right after a large
            # deletion (recently deleted inodes are skipped), which would slow the next tool.
            self.step(t, "e", t.check_argv())
            tmpfs = self.tmpfs_target(t.name)
            if tmpfs:
                os.makedirs(tmpfs)
                argv, cwd = t.restore(tmpfs)
                try:
                    self.step(t, "f", argv, cwd)
                finally:
                    shutil.rmtree(tmpfs, ignore_errors=True)
        for t in self.tools:
            shutil.rmtree(os.path.join(self.work, f"restore-{t.name}"), ignore_errors=True)

    # ---------------------------------------------------------------- report

    def report(self, failure=None):
        a, L = self.args, []
        what = {"one-big-file": f"one {a.size_mb} MiB file", "small-files": f"{a.files} files of 1-4 KiB"}.get(
            a.shape, f"a {a.size_mb} MiB corpus")
        L.append(f"## Benchmark: {', '.join(t.name for t in self.tools)} on {what} (seed {a.seed})")
        L.append("")
        L.append(f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: {machine()}")
        for name, v in self.versions.items():
            L.append(f"- {name}: `{v.splitlines()[0] if v else '?'}`"
                     + (f" built from {self.source}" if name == "lifeboat" and self.source else ""))
        if self.corpus_summary:
            L.append(f"- corpus: {self.corpus_summary.replace(self.work, 'WORK')}")
        if self.mutate_summary:
            L.append(f"- {self.mutate_summary.splitlines()[0]}")
        L.append("")
        if self.limit and ("lifeboat", "a") in self.results:
            stages, cpu, wall, cores = self.limit
            a = self.results[("lifeboat", "a")]
            L.append(f"- limit of the initial backup: {cpu:.2f} CPU-s of per-stage work, {wall:.2f} s on {cores} cores "
                     f"(`lifeboat-benchmarks limit`: {stages.split(': ', 1)[-1]}); measured {a['wall']:.2f} s and {a['cpu']:.2f} CPU-s, "
                     f"{a['wall'] / wall:.2f}x the limit")
            L.append("")
        L.append("| step | tool | wall s | CPU s | CPU/wall | peak RSS MiB | repo MiB |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for s, desc in STEPS:
            for t in self.tools:
                r = self.results.get((t.name, s))
                if r:
                    L.append(f"| ({s}) {desc} | {t.name} | {r['wall']:.2f} | {r['cpu']:.2f} | "
                             f"{r['cpu'] / r['wall'] if r['wall'] else 0:.2f} | {r['rss']:.0f} | {r['repo']:.1f} |")
        L.append("")
        names = [t.name for t in self.tools]
        if "lifeboat" in names and len(names) > 1:
            others = [n for n in names if n != "lifeboat"]
            L.append("Wall-time ratios (other tool's time / lifeboat's time; >1 means lifeboat is faster):")
            L.append("")
            L.append("| step | " + " | ".join(f"{o}/lifeboat" for o in others) + " |")
            L.append("| --- |" + " ---: |" * len(others))
            for s, desc in STEPS:
                lb = self.results.get(("lifeboat", s))
                cells = []
                for o in others:
                    r = self.results.get((o, s))
                    cells.append(ratio_text(r["wall"], lb["wall"]) if r and lb else "-")
                L.append(f"| ({s}) {desc} | " + " | ".join(cells) + " |")
            L.append("")
        grow = self.growth()
        if grow:
            L.append("Repository growth of step (c) (size after (c) - size after (b)):")
            L.append("")
            L.append("| tool | growth MiB | repo after (a) MiB | repo after (c) MiB |")
            L.append("| --- | ---: | ---: | ---: |")
            for n, g in grow.items():
                L.append(f"| {n} | {g:.1f} | {self.results[(n, 'a')]['repo']:.1f} | {self.results[(n, 'c')]['repo']:.1f} |")
            L.append("")
        targets = self.targets()
        if targets:
            L.append("Targets (lifeboat against restic 0.14 and borg 1.2 with lz4):")
            L.append("")
            L.append("| target | measured | met |")
            L.append("| --- | --- | --- |")
            for name, measured, ok in targets:
                L.append(f"| {name} | {measured} | {'met' if ok else '**not met**'} |")
            L.append("")
        if self.restore_problems:
            L.append("Restore comparison with the mutated corpus (path, type, size, content, mode, file mtimes; untimed):")
            L.append("")
            for n, probs in self.restore_problems.items():
                L.append(f"- {n}: " + ("identical" if not probs else "; ".join(probs)))
            L.append("")
        notes = [(t.name, n) for t in self.tools for n in t.notes]
        if notes:
            L.append("Backup statistics as reported by the tools:")
            L.append("")
            for n, text in notes:
                L.append(f"- {n} {text}")
            L.append("")
        if failure:
            L.append(f"**FAILED**: {failure.tool} step ({failure.step}) `{' '.join(failure.argv)}` exited {failure.code}")
            L.append("")
        return "\n".join(L)

    def growth(self):
        out = {}
        for t in self.tools:
            b, c = self.results.get((t.name, "b")), self.results.get((t.name, "c"))
            if b and c:
                out[t.name] = c["repo"] - b["repo"]
        return out

    def targets(self):
        R, T = self.results, []

        def have(*keys):
            return all(k in R for k in keys)

        def speed(step, other, factor, label):
            if have(("lifeboat", step), (other, step)):
                x = R[(other, step)]["wall"] / R[("lifeboat", step)]["wall"]
                T.append((label, f"{other}/lifeboat = {x:.2f}x", x >= factor))

        speed("a", "restic", 5, "initial backup >= 5x faster than restic")
        speed("a", "borg", 2.5, "initial backup >= 2.5x faster than borg-lz4")
        if have(("lifeboat", "b"), ("restic", "b")):
            lb, rs = R[("lifeboat", "b")]["wall"], R[("restic", "b")]["wall"]
            T.append(("no-change backup <= half of restic's time",
                      f"lifeboat {lb:.2f} s vs restic {rs:.2f} s ({lb / rs:.2f} of restic's)", lb <= rs / 2))
        speed("c", "restic", 3, "backup after 2% change >= 3x faster than restic")
        g = self.growth()
        if "lifeboat" in g and "restic" in g:
            T.append(("repo growth after 2% change <= 1/4 of restic's",
                      f"lifeboat {g['lifeboat']:.1f} MiB vs restic {g['restic']:.1f} MiB "
                      f"({g['lifeboat'] / g['restic'] if g['restic'] else float('inf'):.2f} of restic's)",
                      g["lifeboat"] <= g["restic"] / 4))
        speed("d", "restic", 3, "restore >= 3x faster than restic")
        speed("f", "restic", 5, "restore to tmpfs >= 5x faster than restic")
        steps = [s for s, _ in STEPS if have(("lifeboat", s), ("restic", s))]
        if steps:
            lb = max(R[("lifeboat", s)]["rss"] for s in steps)
            rs = max(R[("restic", s)]["rss"] for s in steps)
            worse = [s for s in steps if R[("lifeboat", s)]["rss"] > R[("restic", s)]["rss"]]
            T.append(("peak RSS <= restic's", f"max over steps: lifeboat {lb:.0f} MiB vs restic {rs:.0f} MiB"
                      + (f"; higher than restic in step(s) {', '.join(worse)}" if worse else "; lower in every step"),
                      lb <= rs))
        last = next((s for s in "edcba" if have(("lifeboat", s), ("restic", s))), None)
        if last:
            lb, rs = R[("lifeboat", last)]["repo"], R[("restic", last)]["repo"]
            T.append(("repository <= 2% larger than restic's",
                      f"after ({last}): lifeboat {lb:.1f} MiB vs restic {rs:.1f} MiB ({(lb / rs - 1) * 100:+.1f}%)",
                      lb <= rs * 1.02))
        return T


def source_state():
    """The commit of this checkout and whether Sources/ or Package.swift differ from it."""
    try:
        head = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return ""
    dirty = [l[3:] for l in dirty if l.strip()]
    return f"commit {head}" + (f" plus uncommitted changes to {', '.join(dirty)}" if dirty else "")


def ratio_text(other, lifeboat):
    if lifeboat <= 0:
        return "-"
    x = other / lifeboat
    return f"{x:.2f}x faster" if x >= 1 else f"{1 / x:.2f}x slower"


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def machine():
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {mem}, {platform.system()} {platform.release()}"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lifeboat", help="path of the lifeboat binary (required when lifeboat is among --tools)")
    ap.add_argument("--benchmarks", help="path of lifeboat-benchmarks, for the limit line (default: beside --lifeboat)")
    ap.add_argument("--size-mb", type=int, default=1024, help="corpus size in MiB (default 1024)")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    ap.add_argument("--work", help="work directory (default: a new temporary directory under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (corpus, repositories, logs)")
    ap.add_argument("--tools", default="lifeboat,restic,borg", help="comma-separated subset of lifeboat,restic,borg")
    ap.add_argument("--markdown", help="also write the report to this file")
    ap.add_argument("--shape", choices=["mixed", "one-big-file", "small-files"], default="mixed",
                    help="the corpus: make-corpus.py's mixed tree (default), one file of --size-mb MiB, or --files small files")
    ap.add_argument("--files", type=int, default=200_000, help="how many files --shape small-files makes (default 200000)")
    ap.add_argument("--no-verify-restore", dest="verify_restore", action="store_false",
                    help="skip comparing each restored tree with the corpus (untimed)")
    a = ap.parse_args(argv)
    a.tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    bad = [t for t in a.tools if t not in ALL_TOOLS]
    if bad or not a.tools or len(set(a.tools)) != len(a.tools):
        ap.error(f"--tools: expected a comma-separated subset of {','.join(ALL_TOOLS)}")
    if "lifeboat" in a.tools:
        if not a.lifeboat:
            ap.error("--lifeboat PATH is required when lifeboat is benchmarked")
        if not os.access(a.lifeboat, os.X_OK):
            ap.error(f"--lifeboat {a.lifeboat}: not an executable file")
    for t in a.tools:
        if t != "lifeboat" and not shutil.which(t):
            sys.exit(f"compare.py: {t} is not installed (scripts/bench installs it with apt-get)")

    if a.work:
        work = os.path.abspath(a.work)
        os.makedirs(work, exist_ok=True)
        if os.listdir(work):
            sys.exit(f"compare.py: --work {work} is not empty")
    else:
        work = tempfile.mkdtemp(prefix="lifeboat-bench-", dir="/tmp")
    log(f"work directory: {work}")
    bench = Bench(a, work)
    failure = None
    try:
        bench.run()
    except StepFailed as e:
        failure = e
    except KeyboardInterrupt:
        log("interrupted")
        failure = StepFailed("compare.py", "-", ["interrupted"], 130, "")
    finally:
        text = bench.report(failure)
        print(text)
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(text + "\n")
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failure:
        print(f"\ncompare.py: {failure.tool} failed in step ({failure.step}): {' '.join(failure.argv)} "
              f"exited {failure.code}; its stderr:", file=sys.stderr)
        print(failure.stderr[-8000:].rstrip() or "(empty)", file=sys.stderr)
        return 1
    if any(self_problems for self_problems in bench.restore_problems.values()):
        print("\ncompare.py: a restored tree differs from the corpus (see 'Restore comparison' above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
