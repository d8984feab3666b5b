import ArgumentParser
import Foundation
import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write one file of a snapshot to standard output, or a folder as a tar stream.",
        discussion: """
            A file is written byte for byte; a folder (or '/', the whole snapshot) as a POSIX tar \
            stream whose names start at the folder's name. Examples:
              lifeboat dump latest /srv/app/config.yaml > config.yaml
              lifeboat dump latest /srv/app | tar -x -C /tmp/app-copy
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var latest: LatestIntactOptions
    @OptionGroup var selection: SourceSelectionOptions

    @Argument(help: "Snapshot id (any unique prefix) or 'latest'.")
    var snapshot: String

    @Argument(help: "Absolute path inside the snapshot ('/' for all of it).")
    var path: String

    func run() async throws {
        let repo = try await repository.open()
        let entry = try await selection.find(snapshot, in: repo, latest: latest)
        let dump = SnapshotDump(repository: repo, index: try await repo.loadIndex())
        // A tar stream on a terminal is noise that can upset it: refuse before writing a byte.
        if try await dump.form(of: path, in: entry.snapshot.tree) == .tar, isatty(STDOUT_FILENO) == 1 {
            throw CLIError("\(path) is a folder: its tar stream is not written to a terminal; redirect it ('> FILE.tar' or '| tar -x')")
        }
        let result = try await dump.write(path, in: entry.snapshot.tree, to: STDOUT_FILENO)
        for skipped in result.skipped {
            FileHandle.standardError.write(Data("lifeboat: warning: \(TerminalText.escaped(skipped)) is a socket, which a tar stream cannot hold; left out\n".utf8))
        }
        if !result.skipped.isEmpty { throw ExitCode(ExitStatus.partial.rawValue) }
    }
}
