import ArgumentParser
import Foundation
import LifeboatCore

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show what changed between two snapshots.",
        discussion: "Lines start with + (added), - (removed), M (content changed), T (type changed) or U (metadata changed).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var latest: LatestIntactOptions
    @OptionGroup var selection: SourceSelectionOptions

    @Argument(help: "The older snapshot.") var from: String
    @Argument(help: "The newer snapshot.") var to: String

    func run() async throws {
        let repo = try await repository.open()
        let a = try await selection.find(from, in: repo, latest: latest)
        let b = try await selection.find(to, in: repo, latest: latest)
        let index = try await repo.loadIndex()
        let changes = try await SnapshotDiff(repository: repo, index: index).changes(from: a.snapshot.tree, to: b.snapshot.tree)
        if output.json {
            try JSONOutput.print(changes.map { ["change": $0.kind.rawValue, "path": $0.path] })
        } else {
            for c in changes { print("\(c.kind.rawValue)    \(TerminalText.escaped(c.path))") }
            let added = changes.filter { $0.kind == .added }.count
            let removed = changes.filter { $0.kind == .removed }.count
            print("\(added) added, \(removed) removed, \(changes.count - added - removed) changed")
        }
    }
}
