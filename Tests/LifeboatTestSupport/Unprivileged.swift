import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Tests whose subject must be denied something (an unreadable file, a folder it cannot
/// write) cannot run it as root, which is denied nothing, and CI runs the tests as root.
/// Then the subject, the built `lifeboat`, runs as an unprivileged user instead
/// (`LIFEBOAT_TEST_UNPRIVILEGED_USER`, set by scripts/test, else `nobody`); a test run by
/// an ordinary user runs it as that user.
public enum Unprivileged {
    /// The user to run the subject as, or nil when this process is unprivileged already.
    public static var user: String? {
        guard geteuid() == 0 else { return nil }
        let name = ProcessInfo.processInfo.environment["LIFEBOAT_TEST_UNPRIVILEGED_USER"] ?? "nobody"
        return name.isEmpty ? "nobody" : name
    }

    /// A CLI for a repository in `scratch` that runs as ``user``. `scratch` (and all in it)
    /// is handed to that user: it is where the repository, the password file and any
    /// source live. Call it after making the files, then take rights away.
    public static func cli(scratch: ScratchDirectory) throws -> LifeboatCLI {
        var cli = try LifeboatCLI(scratch: scratch)
        guard let user else { return cli }
        precondition(getpwnam(user) != nil, "no user \(user): scripts/test makes one (LIFEBOAT_TEST_UNPRIVILEGED_USER)")
        try handOver(scratch.path, to: user)
        cli.osUser = user
        cli.binary = try ScratchPostgres.lifeboatExecutable(for: user)
        return cli
    }

    /// Gives `path` and what is below it to `user`.
    public static func handOver(_ path: String, to user: String) throws {
        let out = try Shell.run("/bin/chown", ["-R", user, path])
        guard out.status == 0 else { throw ScratchPostgresError("chown \(user) \(path) failed: \(out.stderr)") }
    }
}
