import Foundation
import LifeboatCore

extension RepositoryOptions {
    /// `lifeboat wal fetch %f %p` for this repository, as the restored server's shell will
    /// run it (as the server's OS user): absolute paths, the passphrase from its file.
    /// A function of the restored data directory, whose `pg_wal/lifeboat-prefetch` holds
    /// segments fetched ahead (8 at a time).
    /// - Parameter at: a location other than the repository's (restore-test --location).
    func walFetchCommand(at other: String? = nil) throws -> @Sendable (String) -> String {
        guard let passwordFile = passwordFile ?? environment["LIFEBOAT_PASSWORD_FILE"] ?? (try? configuration())?.passphrase?.file else {
            throw PostgreSQLSourceError.needsPasswordFile
        }
        var location = try other ?? location()
        if !location.hasPrefix("s3://") { location = Self.absolute(location) }
        var words = [Self.executablePath, "wal", "fetch", "%f", "%p", "--repo", location, "--password-file", Self.absolute(passwordFile)]
        if let e = s3Endpoint { words += ["--s3-endpoint", e] }
        if let r = s3Region { words += ["--s3-region", r] }
        let fixed = words
        return { dataDirectory in
            let spool = Self.absolute(dataDirectory) + "/pg_wal/" + PostgreSQLRestorer.prefetchFolder
            return (fixed + ["--prefetch", "8", "--spool", spool]).map { $0 == "%f" || $0 == "%p" ? $0 : Self.shellQuote($0) }.joined(separator: " ")
        }
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func shellQuote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-:=@".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
