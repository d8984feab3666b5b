import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// A scratch PostgreSQL cluster for one test: `initdb` in a folder of its own, started on
/// 127.0.0.1 with a free port and stopped (immediately) and removed when released.
///
/// PostgreSQL refuses to run as root, and CI runs as root: then the cluster, and every
/// program that touches it, runs as the `postgres` OS user, which owns the folder.
public final class ScratchPostgres: @unchecked Sendable {
    // @unchecked Sendable: every property is set in init; the cluster is stopped once, in deinit.
    public let folder: String
    public let dataDirectory: String
    public let port: Int
    public let binDirectory: String
    /// The OS user the cluster runs as (and its superuser's name); nil for this process's user.
    public let osUser: String?
    public var url: String { "postgresql://\(superuser)@127.0.0.1:\(port)/postgres" }
    public var superuser: String { osUser ?? Identity.currentUser }

    /// `LIFEBOAT_TEST_POSTGRES_BIN` (set by scripts/test), else Debian's folder of the newest major version.
    public static var binDirectory: String? {
        if let dir = ProcessInfo.processInfo.environment["LIFEBOAT_TEST_POSTGRES_BIN"], !dir.isEmpty { return dir }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for v in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        return nil
    }

    /// The OS user PostgreSQL must run as: `postgres` when this process is root, else nil.
    public static var osUserForClusters: String? { geteuid() == 0 ? "postgres" : nil }

    /// Gives `path` (and what is below it) to the clusters' OS user, when there is one.
    public static func handOver(_ path: String) throws {
        guard let user = osUserForClusters else { return }
        let out = try Shell.run("/bin/chown", ["-R", "\(user):\(user)", path])
        if out.status != 0 { throw ScratchPostgresError("chown \(path) failed: \(out.stderr)") }
    }

    /// The lifeboat binary as `user` can run it: the built one when its folders let that
    /// user in, else a copy in a folder of the temporary directory (made once per run).
    public static func lifeboatExecutable(for user: String?) throws -> String {
        guard let user else { return LifeboatCLI.executable }
        if try Shell.run("/usr/sbin/runuser", ["-u", user, "--", "/usr/bin/test", "-x", LifeboatCLI.executable]).status == 0 {
            return LifeboatCLI.executable
        }
        let folder = NSTemporaryDirectory() + "lifeboat-bin-\(getpid())"
        let copy = folder + "/lifeboat"
        if !FileManager.default.fileExists(atPath: copy) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try FileManager.default.copyItem(atPath: LifeboatCLI.executable, toPath: copy)
        }
        return copy
    }

    public static var isAvailable: Bool {
        guard binDirectory != nil else { return false }
        return geteuid() != 0 || getpwnam("postgres") != nil
    }

    /// - Parameters:
    ///   - settings: lines for postgresql.auto.conf (archive_command, …).
    ///   - walOutside: pg_wal is a link to `<folder>/wal` (`initdb --waldir`), as some
    ///     installations keep WAL on another disk.
    public init(settings: [String] = [], walOutside: Bool = false) throws {
        guard let bin = Self.binDirectory else { throw ScratchPostgresError("no PostgreSQL server programs found") }
        binDirectory = bin
        osUser = Self.osUserForClusters
        let template = NSTemporaryDirectory() + "lifeboat-pg-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw ScratchPostgresError("mkdtemp failed") }
        folder = String(cString: made)
        chmod(folder, 0o755)
        dataDirectory = folder + "/data"
        port = try Self.freePort()
        try Self.handOver(folder)
        try program(
            "initdb", ["-D", dataDirectory, "-A", "trust", "--data-checksums", "-U", osUser ?? Identity.currentUser] + (walOutside ? ["--waldir", folder + "/wal"] : []))
        let conf = ([
            "port = \(port)", "listen_addresses = '127.0.0.1'", "unix_socket_directories = '\(folder)'", "wal_level = replica",
            "max_wal_senders = 4", "fsync = off", "full_page_writes = on", "checkpoint_timeout = 1h",
        ] + settings).joined(separator: "\n") + "\n"
        let auto = dataDirectory + "/postgresql.auto.conf"
        // initdb writes it; keep what it says.
        let existing = FileManager.default.fileExists(atPath: auto) ? try String(contentsOfFile: auto, encoding: .utf8) : ""
        try (existing + conf).write(toFile: auto, atomically: false, encoding: .utf8)
        try start()
    }

    deinit {
        _ = try? control(["-D", dataDirectory, "-m", "immediate", "-w", "stop"], check: false)  // may be stopped already
        try? FileManager.default.removeItem(atPath: folder)  // a leftover scratch cluster harms no test
    }

    /// Starts the server and waits until it accepts connections: up to ten minutes (pg_ctl's
    /// own default is one), since a CI machine of two cores running the whole suite can take
    /// more than a minute to bring a cluster up. A failure says what the server's log says.
    public func start() throws {
        do {
            try control(["-D", dataDirectory, "-l", folder + "/server.log", "-w", "-t", "600", "start"])
        } catch {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "(no server.log)"
            throw ScratchPostgresError("\(error); the end of its server.log: \(log.suffix(2000))")
        }
    }

    /// pg_ctl, as the cluster's user.
    @discardableResult
    func control(_ arguments: [String], check: Bool = true) throws -> String {
        try program("pg_ctl", arguments, check: check)
    }

    /// psql -Atc: rows as lines, columns separated by `|`.
    @discardableResult
    public func sql(_ statement: String, port: Int? = nil, database: String = "postgres") throws -> String {
        let out = try program(
            "psql",
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port ?? self.port)", "-U", superuser, "-d", database,
             "-c", "SET client_min_messages = warning", "-c", statement])
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// pgbench against this cluster (or another port).
    public func pgbench(_ arguments: [String], port: Int? = nil) throws {
        try program("pgbench", ["-h", "127.0.0.1", "-p", "\(port ?? self.port)", "-U", superuser] + arguments + ["postgres"])
    }

    /// Runs one of PostgreSQL's programs as the cluster's user through lifeboat's runner:
    /// with default signal handling and an empty signal mask (pgbench -T ends on SIGALRM,
    /// which the test runner's threads block), and its output in a file, not a pipe
    /// (a server started by pg_ctl would hold a pipe open for its whole life).
    @discardableResult
    func program(_ name: String, _ arguments: [String], check: Bool = true) throws -> String {
        let out = try PostgreSQLServer.run(binDirectory + "/" + name, arguments, as: osUser)
        if check && out.status != 0 { throw ScratchPostgresError("\(name) \(arguments.joined(separator: " ")) failed (\(out.status)): \(out.output)") }
        return out.output
    }

    /// Stops a cluster restored into another directory (by the test) on its way out;
    /// `fast` lets it finish (its archiver's last round included).
    public func stop(dataDirectory other: String, mode: String = "immediate") {
        _ = try? control(["-D", other, "-m", mode, "-w", "stop"], check: false)  // may have stopped itself
    }

    /// The server's log, for failure messages.
    public var log: String { (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "" }

    public static func freePort() throws -> Int { try PostgreSQLServer.freePort() }
}

public struct ScratchPostgresError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

enum Identity {
    static var currentUser: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "postgres"
    }
}
