import ArgumentParser
import Foundation
import LifeboatCore

/// Keys a verb met in a location that are no object name: each is a warning on stderr
/// (already escaped), and the verb ends with exit status 3.
enum RejectedKeysOutput {
    /// Prints the warnings; throws the "finished with warnings" exit when there are any.
    static func warn(_ rejected: [RejectedObjectKey]) throws {
        guard !rejected.isEmpty else { return }
        for key in rejected { FileHandle.standardError.write(Data("lifeboat: warning: \(key)\n".utf8)) }
        throw ExitCode(ExitStatus.partial.rawValue)
    }

}
