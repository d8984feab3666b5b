#!/usr/bin/env python3
"""PostgreSQL benchmark: lifeboat against pgBackRest on the same cluster in the same run.

  pg_compare.py --lifeboat PATH [--scale 50] [--pgbench-seconds 30] [--markdown FILE]

Makes a scratch cluster (initdb --data-checksums, 127.0.0.1, a free port; as the
`postgres` user when run as root) and fills it with `pgbench -i -s SCALE`. Then, for each
tool in turn, with archive_command set to that tool alone:

  1. FULL backup (fast checkpoint),
  2. `pgbench -c 2 -T SECONDS` while WAL is archived, sampling the archive backlog
     (`pg_wal/archive_status/*.ready`) every second,
  3. INCREMENTAL backup,
  4. restore to the end of the archive into a new directory, start it on another port
     and wait until recovery has ended (archiving off in the copy), then stop it.

pgBackRest: Debian's package, compress-type=zst, process-max=2, start-fast=y, no cipher
(lifeboat always encrypts). Every step is timed with wait4 (as compare.py does), page
cache dropped before each when root.
"""
import argparse, glob, json, os, pwd, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_measured, log  # noqa: E402
from s3_compare import free_port, drop_caches  # noqa: E402

PASSWORD = "benchpass"


def pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    if not dirs:
        sys.exit("pg_compare: PostgreSQL is not installed (apt-get install postgresql)")
    return dirs[-1]


class Bench:
    def __init__(self, a):
        self.a = a
        self.bin = pg_bin()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.work = tempfile.mkdtemp(prefix="lifeboat-pgbench-")
        os.chmod(self.work, 0o755)
        self.data = os.path.join(self.work, "data")
        self.port = free_port()
        self.lifeboat = os.path.abspath(a.lifeboat)
        self.rows = []
        self.notes = []
        if self.user:
            self.chown(self.work)

    def chown(self, path):
        pw = pwd.getpwnam(self.user)
        for root, dirs, files in os.walk(path):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)

    def as_user(self, argv):
        return (["runuser", "-u", self.user, "--"] + argv) if self.user else argv

    def run(self, argv, check=True):
        r = subprocess.run(self.as_user(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.work)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr[-2000:]} {r.stdout[-500:]}")
        return r.stdout

    def sql(self, statement, port=None):
        return self.run([f"{self.bin}/psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(port or self.port), "-U", "postgres",
                         "-d", "postgres", "-c", statement]).strip()

    def measured(self, tool, step, argv):
        drop_caches()
        code, wall, cpu, rss, out, err = run_measured(self.as_user(argv), dict(os.environ), self.work,
                                                      os.path.join(self.work, f"{tool}-{step}".replace(" ", "-")))
        if code != 0:
            raise RuntimeError(f"{tool} {step} failed ({code}): {err[-2000:]}")
        log(f"{tool} {step}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss / 1024:.0f} MiB RSS")
        return wall, cpu, rss, out

    def set_archive_command(self, command):
        self.sql(f"ALTER SYSTEM SET archive_command = '{command.replace(chr(39), chr(39) * 2)}'")
        self.sql("SELECT pg_reload_conf()")

    def pgbench_with_backlog(self):
        """pgbench while archiving; the largest and the final number of segments waiting."""
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(len(glob.glob(os.path.join(self.data, "pg_wal/archive_status/*.ready"))))
                time.sleep(1)

        t = threading.Thread(target=sample)
        t.start()
        try:
            self.run([f"{self.bin}/pgbench", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", "2", "-j", "2",
                      "-T", str(self.a.pgbench_seconds), "postgres"])
        finally:
            stop.set()
            t.join()
        wal = self.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        return max(samples or [0]), samples[-1] if samples else 0, wal

    def wait_promoted(self, port, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.sql("SELECT pg_is_in_recovery()", port=port) == "f":
                    return
            except RuntimeError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the restored cluster on port {port} did not finish recovery")

    def setup(self):
        log(f"initdb and pgbench -i -s {self.a.scale} on port {self.port}")
        self.run([f"{self.bin}/initdb", "-D", self.data, "-A", "trust", "--data-checksums", "-U", "postgres"])
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.work}'\n"
                    "wal_level = replica\narchive_mode = on\narchive_command = '/bin/true'\nmax_wal_size = 4GB\n"
                    "shared_buffers = 256MB\n")
        self.run([f"{self.bin}/pg_ctl", "-D", self.data, "-l", os.path.join(self.work, "server.log"), "-w", "start"])
        self.run([f"{self.bin}/pgbench", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-i", "-q", "-s",
                  str(self.a.scale), "postgres"])
        self.size_mb = int(self.sql("SELECT pg_database_size('postgres')")) / (1 << 20)

    def lifeboat_steps(self):
        repo = os.path.join(self.work, "lifeboat-repo")
        pwfile = os.path.join(self.work, "lifeboat-password")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if self.user:
            self.chown(pwfile)
        self.run([self.lifeboat, "init", "--repo", repo, "--password-file", pwfile])
        common = ["--repo", repo, "--password-file", pwfile]
        self.set_archive_command(f"{self.lifeboat} wal push %p --repo {repo} --password-file {pwfile}")
        self.sql("SELECT pg_switch_wal()")
        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        full = self.measured("lifeboat", "full", [self.lifeboat, "backup", "--postgres", url, "--checkpoint", "fast"] + common)
        peak, final, wal = self.pgbench_with_backlog()
        self.notes.append(f"lifeboat `wal push` during `pgbench -c 2 -T {self.a.pgbench_seconds}`: at most {peak} segments "
                          f"waiting in archive_status, {final} at the end (WAL reached {wal})")
        incr = self.measured("lifeboat", "incremental", [self.lifeboat, "backup", "--postgres", url, "--checkpoint", "fast"] + common)
        target = os.path.join(self.work, "lifeboat-restored")
        port = free_port()
        restore = self.measured("lifeboat", "restore", [self.lifeboat, "restore-db", "latest", "--pgdata", target, "--start",
                                                        "--port", str(port), "--no-archiving", "--json"] + common)
        try:
            split = json.loads(restore[3])
            self.notes.append(f"lifeboat restore: {split['restoreSeconds']:.2f} s writing the data directory, "
                              f"{split['recoverySeconds']:.2f} s from start to the end of recovery")
        except (ValueError, KeyError, TypeError):
            pass
        self.run([f"{self.bin}/pg_ctl", "-D", target, "-m", "immediate", "-w", "stop"], check=False)
        if self.a.keep_logs:
            shutil.copy(os.path.join(target, "lifeboat-recovery.log"), self.a.keep_logs)
        repo_mb = sum(os.path.getsize(p) for p in glob.glob(os.path.join(repo, "**"), recursive=True) if os.path.isfile(p)) / (1 << 20)
        return full, incr, restore, repo_mb

    def pgbackrest_steps(self):
        conf = os.path.join(self.work, "pgbackrest.conf")
        repo = os.path.join(self.work, "pgbackrest-repo")
        with open(conf, "w") as f:
            f.write(f"[global]\nrepo1-path={repo}\ncompress-type=zst\nprocess-max=2\nstart-fast=y\nlog-level-console=warn\n"
                    f"log-level-file=off\nlock-path={self.work}/pgbackrest-lock\nspool-path={self.work}/pgbackrest-spool\n"
                    f"[bench]\npg1-path={self.data}\npg1-port={self.port}\npg1-socket-path={self.work}\npg1-user=postgres\n")
        if self.user:
            self.chown(conf)
        pgbr = ["pgbackrest", f"--config={conf}", "--stanza=bench"]
        self.set_archive_command(" ".join(pgbr) + " archive-push %p")
        self.run(pgbr + ["stanza-create"])
        self.sql("SELECT pg_switch_wal()")
        full = self.measured("pgbackrest", "full", pgbr + ["backup", "--type=full"])
        peak, final, wal = self.pgbench_with_backlog()
        self.notes.append(f"pgBackRest `archive-push` during the same pgbench: at most {peak} segments waiting, {final} at the end")
        incr = self.measured("pgbackrest", "incremental", pgbr + ["backup", "--type=incr"])
        target = os.path.join(self.work, "pgbackrest-restored")
        port = free_port()
        # Restore, then start and wait for recovery: the same work `restore-db --start` does.
        script = (f"set -e; {' '.join(pgbr)} restore --pg1-path={target} --archive-mode=off; "
                  f"{self.bin}/pg_ctl -D {target} -l {target}.log -o '-p {port} -k {self.work}' -w start; "
                  f"until [ \"$({self.bin}/psql -X -A -t -h 127.0.0.1 -p {port} -U postgres -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)\" = f ]; "
                  "do sleep 0.1; done")
        restore = self.measured("pgbackrest", "restore", ["/bin/sh", "-c", script])
        self.run([f"{self.bin}/pg_ctl", "-D", target, "-m", "immediate", "-w", "stop"], check=False)
        repo_mb = sum(os.path.getsize(p) for p in glob.glob(os.path.join(repo, "**"), recursive=True) if os.path.isfile(p)) / (1 << 20)
        return full, incr, restore, repo_mb

    def report(self, lb, br):
        lines = [f"PostgreSQL {self.sql('SHOW server_version')}, pgbench scale {self.a.scale} ({self.size_mb:.0f} MiB database), "
                 f"pgbench -c 2 -T {self.a.pgbench_seconds} between FULL and INCREMENTAL.", "",
                 "| step | lifeboat | pgBackRest | ratio |", "| --- | --- | --- | --- |"]
        for i, name in enumerate(["FULL backup", "INCREMENTAL backup", "restore + recovery to the end of the archive"]):
            ratio = br[i][0] / lb[i][0] if lb[i][0] else 0
            lines.append(f"| {name} | {lb[i][0]:.2f} s ({lb[i][1]:.1f} CPU-s, {lb[i][2] / 1024:.0f} MiB RSS) | "
                         f"{br[i][0]:.2f} s ({br[i][1]:.1f} CPU-s, {br[i][2] / 1024:.0f} MiB RSS) | {ratio:.2f}x |")
        lines.append(f"| repository after both backups (with WAL) | {lb[3]:.0f} MiB | {br[3]:.0f} MiB | |")
        lines += [""] + [f"- {n}" for n in self.notes]
        text = "\n".join(lines) + "\n"
        print(text)
        if self.a.markdown:
            with open(self.a.markdown, "w") as f:
                f.write(text)

    def cleanup(self):
        for d in [self.data, os.path.join(self.work, "lifeboat-restored"), os.path.join(self.work, "pgbackrest-restored")]:
            if os.path.isdir(d):
                subprocess.run(self.as_user([f"{self.bin}/pg_ctl", "-D", d, "-m", "immediate", "-w", "stop"]),
                               capture_output=True, check=False)
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifeboat", required=True)
    ap.add_argument("--scale", type=int, default=50)
    ap.add_argument("--pgbench-seconds", type=int, default=30)
    ap.add_argument("--markdown")
    ap.add_argument("--keep-logs", help="copy lifeboat's recovery log of the restored cluster to this file")
    a = ap.parse_args()
    if shutil.which("pgbackrest") is None:
        sys.exit("pg_compare: pgbackrest is not installed (apt-get install pgbackrest)")
    b = Bench(a)
    try:
        b.setup()
        lb = b.lifeboat_steps()
        br = b.pgbackrest_steps()
        b.report(lb, br)
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
