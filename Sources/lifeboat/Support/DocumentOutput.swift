import Foundation

/// A document for people, to stdout or to a file written whole (a temporary beside it,
/// then renamed), so a reader never finds half of one.
enum DocumentOutput {
    static func write(_ text: String, to path: String?) throws {
        guard let path else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError("cannot write \(path): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("lifeboat: wrote \(path)\n".utf8))
    }
}
