import Foundation
import LifeboatCore

/// A drill's sandbox: one folder holding a scratch copy of each source it restores, named
/// after the execution so a resumed drill finds it again. Removed at the drill's end,
/// whatever the end; production paths are never inside it nor written by a drill.
struct RecoverySandbox: Sendable {
    let path: String

    init(path: String) {
        self.path = path
    }

    /// The sandbox of an execution under `scratch`.
    init(scratch: String, execution: UUID) {
        path = (scratch.hasSuffix("/") ? String(scratch.dropLast()) : scratch) + "/lifeboat-drill-" + execution.uuidString.lowercased()
    }

    /// Makes the folder (owner only: it holds restored data).
    func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Where a source's scratch copy lives: the folder the files of a files source are
    /// restored under (each at its absolute path below it), or a SQLite database's file.
    func root(of source: String) -> String { path + "/" + source }

    /// What the drill's commands see as the source: a SQLite file, or a files source's first path.
    func restoredPath(of source: LifeboatConfiguration.Source) -> String {
        switch source.kind {
        case .sqlite: return root(of: source.name) + "/" + ((source.path ?? "database.db") as NSString).lastPathComponent
        case .files: return root(of: source.name) + (source.paths?.first ?? "")
        case .postgres: return root(of: source.name) + "/pgdata"
        }
    }

    /// `LIFEBOAT_SANDBOX_<SOURCE>_PATH` (or `_PORT`, `_HOST`): the source's name in
    /// capitals, other characters as `_`.
    static func variable(for source: String, _ suffix: String = "PATH") -> String {
        "LIFEBOAT_SANDBOX_" + String(source.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) + "_" + suffix
    }

    func remove() {
        stopClusters()
        // Restored trees may hold read-only folders: make them writable first. Folders only,
        // looked at without following links: a restored link may point anywhere.
        let fm = FileManager.default
        if let walker = fm.enumerator(atPath: path) {
            while let relative = walker.nextObject() as? String {
                let item = path + "/" + relative
                // A folder that resists chmod is reported by the removal below, if at all.
                if (try? fm.attributesOfItem(atPath: item)[.type] as? FileAttributeType) == .typeDirectory {
                    try? fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: item)
                }
            }
        }
        // A sandbox already gone is what was wanted.
        try? FileManager.default.removeItem(atPath: path)
    }
}
