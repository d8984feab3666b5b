import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a snapshot under a target directory.",
        discussion: """
            Each backed-up path keeps its absolute structure: /data/x becomes TARGET/data/x. \
            Damaged content is never written: such files are reported and the rest restored (exit 3). \
            A file the target already holds is left as it is unless --overwrite says otherwise: \
            never (the default: nothing there is lost; a file that differs from the snapshot is \
            reported as kept and the exit status is 3), if-changed (replaced only when its content \
            differs from the snapshot's, compared blob by blob) or always. A target that exists \
            and is not a folder is refused before anything is written. \
            --dry-run says what would be restored, overwritten, kept or found unchanged, and writes nothing.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var latest: LatestIntactOptions
    @OptionGroup var selection: SourceSelectionOptions

    @Argument(help: "Snapshot id (any unique prefix) or 'latest'.")
    var snapshot: String

    @Option(name: .long, help: "Directory to restore into (made if missing).")
    var target: String

    @Option(name: .long, help: "Restore only paths matching a glob (repeatable; with a '/' it matches snapshot paths, else names).")
    var include: [String] = []

    @Option(name: .long, help: "Do not restore paths matching a glob, nor anything below them (repeatable; as --include; wins over it).")
    var exclude: [String] = []

    @Flag(name: .long, help: "Say what would be restored, overwritten or kept; write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Read every restored file back and compare it with the snapshot.")
    var verify = false

    @Flag(name: .long, help: "Write runs of zeros instead of leaving holes.")
    var noSparse = false

    @Option(name: .long, help: "What to do with a file the target already holds: never (default), if-changed or always.")
    var overwrite: OverwriteArgument = .never

    func run() async throws {
        let repo = try await repository.open()
        let entry = try await selection.find(snapshot, in: repo, latest: latest)
        var options = RestoreOptions(target: target)
        options.includes = include
        options.excludes = exclude
        options.verify = verify
        options.sparse = !noSparse
        options.overwrite = overwrite.policy
        if dryRun {
            try await preview(entry, options: options, in: repo)
            return
        }
        let display = ProgressDisplay(verb: "restore", mode: progress.mode(json: output.json))
        let result = try await display.show { meter in
            var options = options
            options.progress = meter
            // The snapshot's totals hold for a whole restore; a selection's are not known ahead.
            let stats = entry.snapshot.statistics
            let whole = include.isEmpty && exclude.isEmpty
            meter?.start(
                "restoring files", items: whole ? Int64(stats.filesNew + stats.filesChanged + stats.filesUnmodified) : nil,
                bytes: whole ? stats.totalFileBytes : nil)
            return try await Restorer(repository: repo).restore(entry.snapshot, options: options)
        }
        if output.json {
            try JSONOutput.print(
                RestoreJSON(
                    snapshotId: entry.id.hex, target: target, filesRestored: result.filesRestored,
                    directoriesRestored: result.directoriesRestored, otherEntriesRestored: result.otherEntriesRestored,
                    bytesWritten: result.bytesWritten, filesVerified: result.filesVerified, damagedFiles: result.damagedFiles,
                    errors: result.errors, filesUnchanged: result.filesUnchanged, keptFiles: result.keptFiles))
        } else {
            print("restored snapshot \(entry.id.shortHex) to \(target): \(result.filesRestored) files, \(result.directoriesRestored) directories, \(ByteFormat.string(result.bytesWritten))\(verify ? ", \(result.filesVerified) files verified" : "")\(result.filesUnchanged > 0 ? ", \(result.filesUnchanged) files already there unchanged" : "")")
        }
        for d in result.damagedFiles { FileHandle.standardError.write(Data("lifeboat: damaged, not restored: \(d)\n".utf8)) }
        for e in result.errors { FileHandle.standardError.write(Data("lifeboat: error: \(e)\n".utf8)) }
        for k in result.keptFiles {
            FileHandle.standardError.write(Data("lifeboat: kept, differs from the snapshot: \(k) (--overwrite if-changed or always replaces it)\n".utf8))
        }
        if !result.isComplete {
            throw ExitCode(result.verificationFailures > 0 ? ExitStatus.verificationFailed.rawValue : ExitStatus.partial.rawValue)
        }
    }
}

extension RestoreCommand {
    private func preview(_ entry: SnapshotEntry, options: RestoreOptions, in repo: Repository) async throws {
        let preview = try await Restorer(repository: repo).preview(tree: entry.snapshot.tree, options: options)
        if output.json {
            try JSONOutput.print(
                RestorePreviewJSON(
                    snapshotId: entry.id.hex, target: target,
                    entries: preview.entries.map { .init(path: $0.path, action: $0.action, type: $0.type.rawValue, sizeBytes: $0.sizeBytes) },
                    directoriesToMake: preview.directoriesToMake, bytesToWrite: preview.bytesToWrite, errors: preview.errors))
        } else {
            var table = TextTable()
            for e in preview.entries where e.action != .unchanged {
                table.append([e.action.rawValue, e.type == .file ? ByteFormat.string(e.sizeBytes) : e.type.rawValue, TerminalText.escaped(e.path)])
            }
            table.print()
            print(
                "dry run of snapshot \(entry.id.shortHex) to \(target), nothing written: would restore \(preview.count(.restore)), overwrite \(preview.count(.overwrite)), "
                    + "keep \(preview.count(.keep)) as the target holds them, leave \(preview.count(.unchanged)) unchanged; "
                    + "\(ByteFormat.string(preview.bytesToWrite)) to write, \(preview.directoriesToMake) folders to make")
        }
        for e in preview.errors { FileHandle.standardError.write(Data("lifeboat: error: \(e)\n".utf8)) }
        if !preview.errors.isEmpty { throw ExitCode(ExitStatus.partial.rawValue) }
    }
}

/// `restore --dry-run --json`.
struct RestorePreviewJSON: Encodable {
    struct Entry: Encodable {
        let path: String
        let action: RestorePreview.Action
        let type: String
        let sizeBytes: Int64
    }
    let dryRun = true
    let snapshotId: String
    let target: String
    let entries: [Entry]
    let directoriesToMake: Int
    let bytesToWrite: Int64
    let errors: [String]
}

struct RestoreJSON: Encodable {
    let snapshotId: String
    let target: String
    let filesRestored: Int
    let directoriesRestored: Int
    let otherEntriesRestored: Int
    let bytesWritten: Int64
    let filesVerified: Int
    let damagedFiles: [String]
    let errors: [String]
    /// Files the target already held with the snapshot's content.
    let filesUnchanged: Int
    /// Paths the target held with something else, left as they were (--overwrite never).
    let keptFiles: [String]
}

/// `--overwrite`, as users spell it.
enum OverwriteArgument: String, ExpressibleByArgument, CaseIterable {
    case never
    case ifChanged = "if-changed"
    case always

    var policy: RestoreOptions.OverwritePolicy {
        switch self {
        case .never: return .never
        case .ifChanged: return .ifChanged
        case .always: return .always
        }
    }
}
