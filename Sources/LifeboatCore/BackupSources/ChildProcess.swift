import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end and collects what it printed: PostgreSQL's own programs
/// (pg_ctl, pg_controldata) here, and any program in the tests.
///
/// posix_spawn and waitpid directly, not Foundation's Process:
/// - the child gets default handling of every signal and an empty signal mask (the CLI
///   ignores SIGINT and SIGTERM, a test runner blocks others; a server or pgbench must
///   inherit neither);
/// - its output goes to anonymous memory files, not pipes: a server that pg_ctl starts
///   would hold a pipe open for its whole life, and a pipe read to its end would never end;
/// - waiting is a waitpid on this pid, with no SIGCHLD handler to depend on.
public enum ChildProcess {
    public struct Output: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// What a child gets unless told otherwise: a PATH and the C locale (messages that are
    /// parsed stay in English). Never this process's own environment, which may hold the
    /// repository passphrase, cloud credentials or a database password.
    public static let baseEnvironment: [String: String] = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
    ]

    /// - Parameters:
    ///   - arguments: the program (an absolute path) and its arguments.
    ///   - environment: the child's whole environment; nil is ``baseEnvironment``.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        precondition(!arguments.isEmpty && arguments[0].hasPrefix("/"), "a program is named by its absolute path")
        let out = lifeboat_memfd_create("lifeboat-stdout")
        let err = lifeboat_memfd_create("lifeboat-stderr")
        defer {
            if out >= 0 { close(out) }
            if err >= 0 { close(err) }
        }
        guard out >= 0, err >= 0 else { throw FileSystemError("memfd_create", RawPath(arguments[0]), errno: errno) }
        let pid = try spawn(arguments, environment: environment ?? baseEnvironment, stdout: out, stderr: err)
        let code = try waitForExit(pid, program: arguments[0])
        return Output(status: code, stdout: contents(of: out), stderr: contents(of: err))
    }

    /// Starts a program with stdin from /dev/null and its output into the given descriptors,
    /// and returns at once: for a caller that waits with ``waitForExit(_:program:)`` (on a
    /// thread of its own) and may kill it meanwhile. A descendant it leaves running (a
    /// server pg_ctl starts) delays nothing: only this pid is waited for.
    /// - Parameters:
    ///   - arguments: the program (an absolute path) and its arguments.
    ///   - environment: the child's whole environment.
    public static func spawn(_ arguments: [String], environment: [String: String], stdout out: Int32, stderr err: Int32) throws -> pid_t {
        precondition(!arguments.isEmpty && arguments[0].hasPrefix("/"), "a program is named by its absolute path")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out, 1)
        posix_spawn_file_actions_adddup2(&actions, err, 2)
        // Nothing else of this process's reaches the child (a descendant that outlives it, a
        // server it starts, would hold a pipe or socket its own parent waits on to close).
        _ = lifeboat_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var every = sigset_t()
        sigfillset(&every)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &every)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw FileSystemError("posix_spawn", RawPath(arguments[0]), errno: spawned) }
        return pid
    }

    /// Blocks until `pid` ends; returns its exit code, or 128 + the signal that ended it.
    public static func waitForExit(_ pid: pid_t, program: String) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw FileSystemError("waitpid", RawPath(program), errno: errno) }
        }
        // WIFEXITED/WEXITSTATUS are macros Swift does not import: exit code, or 128 + signal.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    private static func contents(of fd: Int32) -> String {
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: block[0..<n])
            offset += off_t(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
