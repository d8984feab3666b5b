import Foundation

/// Runs the built `lifeboat` executable, as users and scripts do.
public struct LifeboatCLI: Sendable {
    public let repository: String
    public let passwordFile: String
    public var extraEnvironment: [String: String] = [:]
    /// Run as this OS user (through runuser; the environment is kept), as a database's
    /// `archive_command` and a backup of its data directory would.
    public var osUser: String?
    /// Another copy of the binary (one the `osUser` can reach); nil runs ``executable``.
    public var binary: String?

    /// The binary next to the test bundle (`.build/<config>/lifeboat`), or $LIFEBOAT_BIN.
    public static var executable: String {
        if let bin = ProcessInfo.processInfo.environment["LIFEBOAT_BIN"] { return bin }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // Inside an .xctest bundle on some platforms the binary sits deeper.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("lifeboat").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return exe.deletingLastPathComponent().appendingPathComponent("lifeboat").path
    }

    /// A repository path and a password file in `scratch`; nothing is created yet.
    public init(scratch: ScratchDirectory, passphrase: String = "correct horse battery staple") throws {
        repository = scratch.path + "/repo"
        passwordFile = scratch.path + "/password"
        try passphrase.write(toFile: passwordFile, atomically: true, encoding: .utf8)
    }

    public var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["LIFEBOAT_REPOSITORY", "LIFEBOAT_PASSWORD", "LIFEBOAT_PASSWORD_FILE"] { env.removeValue(forKey: key) }
        env["LIFEBOAT_REPOSITORY"] = repository
        env["LIFEBOAT_PASSWORD_FILE"] = passwordFile
        env.merge(extraEnvironment) { _, new in new }
        return env
    }

    /// The environment with a configuration file instead of a repository: its PRIMARY
    /// location is the repository.
    public func environment(config: String) -> [String: String] {
        var env = environment
        env.removeValue(forKey: "LIFEBOAT_REPOSITORY")
        env["LIFEBOAT_CONFIG"] = config
        return env
    }

    @discardableResult
    public func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Shell.Output {
        if let osUser {
            return try Shell.run("/usr/sbin/runuser", ["-u", osUser, "--", binary ?? Self.executable] + arguments, environment: environment ?? self.environment)
        }
        return try Shell.run(binary ?? Self.executable, arguments, environment: environment ?? self.environment)
    }

    /// `lifeboat init` with a cheap key derivation.
    public func initialize() throws {
        let out = try run(["init", "--kdf-n", "1024"])
        precondition(out.status == 0, "lifeboat init failed: \(out.stderr)")
    }

    /// Parses stdout as JSON.
    public static func json(_ output: Shell.Output) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }
}
