import Foundation
import LifeboatCore

extension RepositoryOptions {
    /// `lifeboat wal fetch %f %p` for this repository, as the restored server's shell will
    /// run it (as the server's OS user): absolute paths, the passphrase from its file.
    func walFetchCommand() throws -> String {
        guard let passwordFile = passwordFile ?? environment["LIFEBOAT_PASSWORD_FILE"] else {
            throw PostgreSQLSourceError.needsPasswordFile
        }
        var location = try location()
        if !location.hasPrefix("s3://") { location = Self.absolute(location) }
        var words = [Self.executablePath, "wal", "fetch", "%f", "%p", "--repo", location, "--password-file", Self.absolute(passwordFile)]
        if let e = s3Endpoint { words += ["--s3-endpoint", e] }
        if let r = s3Region { words += ["--s3-region", r] }
        return words.map { $0 == "%f" || $0 == "%p" ? $0 : Self.shellQuote($0) }.joined(separator: " ")
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
