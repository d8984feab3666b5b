import Foundation

/// A stream backed up as one file (`backup --stdin --stdin-filename dump.sql`, for a
/// `pg_dump | lifeboat backup --stdin` pipe): its bytes are read to the end and stored as
/// the file `name` at the root of the snapshot, whose path is `/name`. Restored, it is that
/// file under the target. The stream's end is its only completeness check: a producer that
/// fails halfway must make the pipe fail (`set -o pipefail`), which the CLI reports.
public struct StreamSource: BackupSource {
    public var fileDescriptor: Int32
    /// The file's name in the snapshot: one path component.
    public var name: String

    public init(fileDescriptor: Int32, name: String) {
        self.fileDescriptor = fileDescriptor
        self.name = name
    }

    public var kind: SourceKind { .files }

    /// Whether `name` is one path component a restore can create.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }

    public func check(_ context: BackupSourceContext) async throws -> any CheckedBackupSource {
        guard Self.isValidName(name) else { throw BackupError.invalidStreamName(name) }
        return Checked(fileDescriptor: fileDescriptor, name: name, type: context.type)
    }

    struct Checked: CheckedBackupSource {
        let fileDescriptor: Int32
        let name: String
        let type: BackupType?
        var source: Snapshot.Source { .files }
        var paths: [String] { ["/" + name] }
        var preCheck: Snapshot.CheckOutcome { Snapshot.CheckOutcome(passed: true, details: "\(name) read from a stream to its end") }

        func start(after parent: Snapshot?) async throws -> BackupSourceRead {
            .stream(fileDescriptor: fileDescriptor, name: name)
        }
    }
}
