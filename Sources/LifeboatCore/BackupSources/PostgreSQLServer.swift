import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster on this host, driven through its own programs (`pg_ctl`,
/// `pg_controldata`): started after a restore, watched until recovery ends, stopped.
///
/// PostgreSQL refuses to run as root, so when lifeboat runs as root the programs run as
/// the owner of the data directory (`runuser`).
public struct PostgreSQLServer: Sendable {
    public let dataDirectory: String
    public let binDirectory: String
    /// The OS user that owns the data directory.
    public let owner: String
    let ownerUID: uid_t
    /// The environment of the server's programs, and so of the server and its
    /// `restore_command`: built for them, never this process's (which may hold secrets).
    /// Add what `restore_command` needs (an S3 location's credentials) and nothing else.
    public var environment: [String: String] = ChildProcess.baseEnvironment

    /// - Throws: ``PostgreSQLSourceError/runsAsRoot(_:)`` for a root-owned directory,
    ///   ``PostgreSQLSourceError/dataDirectoryUnreadable(_:)`` when it is not a data directory.
    public init(dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        var st = stat()
        // PG_VERSION belongs to the database's OS user: read without following a link, and
        // only a version number goes into the path of the programs run.
        guard stat(dataDirectory, &st) == 0, let text = RegularFile.text(atPath: dataDirectory + "/PG_VERSION") else {
            throw PostgreSQLSourceError.dataDirectoryUnreadable(dataDirectory)
        }
        let version = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !version.isEmpty, version.count <= 8, version.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else {
            throw PostgreSQLSourceError.unknownVersion(dataDirectory, version)
        }
        guard st.st_uid != 0 else { throw PostgreSQLSourceError.runsAsRoot(dataDirectory) }
        ownerUID = st.st_uid
        owner = getpwuid(st.st_uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "\(st.st_uid)"
        binDirectory = Self.binDirectory(majorVersion: version)
    }

    /// Debian keeps each major version's server programs in `/usr/lib/postgresql/<major>/bin`;
    /// elsewhere they are found through `pg_config --bindir` or on the PATH.
    public static func binDirectory(majorVersion: String) -> String {
        let debian = "/usr/lib/postgresql/\(majorVersion)/bin"
        if FileManager.default.isExecutableFile(atPath: debian + "/pg_ctl") { return debian }
        if let out = try? run("pg_config", ["--bindir"], as: nil, environment: ChildProcess.baseEnvironment), out.status == 0 {
            let dir = out.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.isExecutableFile(atPath: dir + "/pg_ctl") { return dir }
        }
        for dir in (ChildProcess.baseEnvironment["PATH"] ?? "/usr/bin").split(separator: ":") {
            if FileManager.default.isExecutableFile(atPath: "\(dir)/pg_ctl") { return String(dir) }
        }
        return debian
    }

    /// Starts the server on 127.0.0.1:`port`, logging to `logFile`. Returns once the
    /// postmaster runs (recovery may still be going on).
    ///
    /// pg_ctl hands its options to a shell (`-o` as it is, the data directory and the log
    /// inside double quotes): only the port and a constant go through `-o`; a path (the
    /// socket folder) belongs in postgresql.auto.conf, where it is quoted for PostgreSQL
    /// alone; the two paths pg_ctl quotes itself are refused when they hold a character its
    /// double quotes do not protect.
    /// - Throws: ``PostgreSQLSourceError/pathUnsafeForServer(_:)``,
    ///   ``PostgreSQLSourceError/serverFailedToStart(_:log:)``.
    public func start(port: Int, logFile: String, timeoutSeconds: Int = 120) async throws {
        try Self.checkPassable(dataDirectory)
        try Self.checkPassable(logFile)
        let options = "-p \(port) -c listen_addresses=127.0.0.1"
        let out = try await runBlocking(
            binDirectory + "/pg_ctl", ["-D", dataDirectory, "-l", logFile, "-o", options, "-w", "-t", "\(timeoutSeconds)", "start"], as: runAs)
        guard out.status == 0 else {
            throw PostgreSQLSourceError.serverFailedToStart(dataDirectory, log: Self.tail(of: logFile, fallback: out.output))
        }
    }

    /// Refuses a path that pg_ctl's shell would not take as it is (inside double quotes,
    /// `"`, `\`, `$` and `` ` `` keep a meaning), before anything is written for it.
    public static func checkPassable(_ path: String) throws {
        if path.contains(where: { "\"\\$`\n\r".contains($0) }) { throw PostgreSQLSourceError.pathUnsafeForServer(path) }
    }

    /// Stops the server: `fast` (clean shutdown) or `immediate`.
    public func stop(mode: String = "fast") async throws {
        _ = try await runBlocking(binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "stop"], as: runAs)
    }

    /// Whether a postmaster runs on this data directory.
    public func isRunning() async throws -> Bool {
        try await runBlocking(binDirectory + "/pg_ctl", ["-D", dataDirectory, "status"], as: runAs).status == 0
    }

    /// `Database cluster state` from pg_control: `in archive recovery`, `in production`, ….
    public func clusterState() async throws -> String {
        let out = try await runBlocking(binDirectory + "/pg_controldata", ["-D", dataDirectory], as: runAs)
        for line in out.output.split(separator: "\n") where line.hasPrefix("Database cluster state:") {
            return line.dropFirst("Database cluster state:".count).trimmingCharacters(in: .whitespaces)
        }
        throw PostgreSQLSourceError.unexpectedAnswer("pg_controldata", String(out.output.prefix(200)))
    }

    /// Waits until recovery has ended and the server accepts writes (pg_control says
    /// `in production`); fails with the log's end when the server stops instead (a
    /// recovery target that was never reached, a missing segment).
    /// - Parameter clock: paces the look-ups and measures the timeout.
    public func waitForRecovery(logFile: String, timeout: Duration, clock: some Clock<Duration> = ContinuousClock()) async throws {
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if try await clusterState() == "in production" { return }
            if !(try await isRunning()) {
                throw PostgreSQLSourceError.serverFailedToStart(dataDirectory, log: Self.tail(of: logFile, fallback: "no log"))
            }
            if clock.now >= deadline { throw PostgreSQLSourceError.recoveryTimeout(dataDirectory, seconds: Int(timeout.components.seconds)) }
            try await clock.sleep(for: .milliseconds(100))
        }
    }

    /// Who the programs run as: nil (this process's user) unless this process is root.
    var runAs: String? { geteuid() == 0 ? owner : nil }

    /// The last lines of a log (errors first: FATAL and PANIC lines are what explain a stop).
    static func tail(of path: String, fallback: String) -> String {
        // The log may lie in a folder of the database's OS user: a link there is not followed.
        guard let text = RegularFile.text(atPath: path) else { return fallback }
        let lines = text.split(separator: "\n")
        let fatal = lines.filter { $0.contains("FATAL") || $0.contains("PANIC") }
        return (fatal.isEmpty ? Array(lines.suffix(3)) : Array(fatal.suffix(3))).joined(separator: " | ")
    }

    public struct ProgramOutput: Sendable {
        public let status: Int32
        /// Standard output and error together.
        public let output: String
    }

    func runBlocking(_ program: String, _ arguments: [String], as user: String?) async throws -> ProgramOutput {
        let environment = self.environment
        return try await BlockingIOQueue.run { try Self.run(program, arguments, as: user, environment: environment) }
    }

    /// Runs a program to its end, as `user` through runuser when given (``ChildProcess``).
    public static func run(
        _ program: String, _ arguments: [String], as user: String?, environment: [String: String] = ChildProcess.baseEnvironment
    ) throws -> ProgramOutput {
        var argv: [String]
        if let user {
            argv = ["/usr/sbin/runuser", "-u", user, "--", program] + arguments
        } else if program.hasPrefix("/") {
            argv = [program] + arguments
        } else {
            argv = ["/usr/bin/env", program] + arguments
        }
        let out = try ChildProcess.run(argv, environment: environment)
        return ProgramOutput(status: out.status, output: out.stdout + out.stderr)
    }

    /// A port nobody listens on now: bound to 127.0.0.1:0 and released.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FileSystemError("socket", RawPath("127.0.0.1"), errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw FileSystemError("bind", RawPath("127.0.0.1"), errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
