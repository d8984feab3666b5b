import Foundation
import LifeboatCore

/// Why a backup job did not run.
public enum BackupJobError: Error, Sendable, CustomStringConvertible {
    /// Another run of the same source holds a RUNNING row whose lease is live.
    case alreadyRunning(source: String, owner: String, startedAt: Date, stage: String?)
    /// The passphrase, read from `origin`, opens no key of the repository in `location`.
    case wrongPassphrase(origin: String, location: String)

    public var description: String {
        switch self {
        case .alreadyRunning(let source, let owner, let startedAt, let stage):
            let progress = stage.map { ", now past stage \($0)" } ?? ""
            return "source '\(source)' is already being backed up by \(owner) (started \(ISO8601.format(startedAt))\(progress)): this run did not start; wait for that one to finish"
        case .wrongPassphrase(let origin, let location):
            return "the passphrase read from \(origin) does not open any key of the repository in location '\(location)': check what it holds"
        }
    }
}
