import Foundation
import LifeboatCore

/// `lifeboat wal fetch %f %p` for a repository, as a restored server's shell will run it
/// (as the server's OS user): absolute paths, the passphrase from its file, and for an S3
/// location the credentials in the server's environment (never on its command line).
public struct WalRestoreCommand: Sendable {
    /// The `lifeboat` binary.
    public var executable: String
    /// The repository: a directory or `s3://bucket/prefix`.
    public var location: String
    /// The file whose first line is the passphrase (the server cannot be asked for one).
    public var passwordFile: String
    public var s3Endpoint: String?
    public var s3Region: String?

    /// - Throws: ``PostgreSQLSourceError/needsPasswordFile`` without a password file.
    public init(executable: String = WalRestoreCommand.currentExecutable, location: String, passwordFile: String?, s3Endpoint: String? = nil, s3Region: String? = nil) throws {
        guard let passwordFile else { throw PostgreSQLSourceError.needsPasswordFile }
        self.executable = executable
        self.location = location.hasPrefix("s3://") ? location : Self.absolute(location)
        self.passwordFile = Self.absolute(passwordFile)
        self.s3Endpoint = s3Endpoint
        self.s3Region = s3Region
    }

    /// The `restore_command` for a data directory, whose `pg_wal/lifeboat-prefetch` holds
    /// segments fetched ahead (8 at a time).
    public var restoreCommand: @Sendable (String) -> String {
        var words = [executable, "wal", "fetch", "%f", "%p", "--repo", location, "--password-file", passwordFile]
        if let e = s3Endpoint { words += ["--s3-endpoint", e] }
        if let r = s3Region { words += ["--s3-region", r] }
        let fixed = words
        return { dataDirectory in
            let spool = Self.absolute(dataDirectory) + "/pg_wal/" + PostgreSQLRestorer.prefetchFolder
            return (fixed + ["--prefetch", "8", "--spool", spool]).map { $0 == "%f" || $0 == "%p" ? $0 : Self.shellQuote($0) }.joined(separator: " ")
        }
    }

    /// What the server's environment must hold for the command: an S3 location's
    /// credentials, endpoint and region; nothing for a directory.
    public func serverEnvironment(from environment: [String: String]) -> [String: String] {
        guard location.hasPrefix("s3://") else { return [:] }
        let names = [
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
        ]
        return environment.filter { names.contains($0.key) }
    }

    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// `path` made absolute against the current directory (a server runs elsewhere).
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func shellQuote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-:=@".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
