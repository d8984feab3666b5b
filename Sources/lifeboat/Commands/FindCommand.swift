import ArgumentParser
import Foundation
import LifeboatCore

struct FindCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find files and folders by name across snapshots.",
        discussion: """
            PATTERN is a shell pattern ('*.conf', 'report-202?-*') matched against each entry's \
            name, or against its whole path when it holds a '/' ('/srv/app/*/config.yaml'). \
            Snapshots are searched oldest first; damaged ones are named on stderr (exit 13).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Shell pattern of a name, or of a whole path when it holds a '/'.")
    var pattern: String

    @Option(name: .customLong("snapshot"), help: "Search only this snapshot (id prefix or 'latest'; repeatable).")
    var snapshots: [String] = []

    @OptionGroup var filter: SnapshotFilterOptions

    @Flag(name: [.short, .customLong("ignore-case")], help: "Match regardless of case.")
    var ignoreCase = false

    func run() async throws {
        let repo = try await repository.open()
        let (all, damaged) = try await repo.listSnapshots()
        for d in damaged { FileHandle.standardError.write(Data("lifeboat: damaged, not searched: \(d)\n".utf8)) }
        var chosen = all
        if !snapshots.isEmpty {
            var picked: [SnapshotEntry] = []
            for reference in snapshots { picked.append(try await repo.findSnapshot(reference, latestIntact: false)) }
            chosen = all.filter { e in picked.contains { $0.id == e.id } }
        }
        chosen = chosen.filter { filter.filter.matches($0.snapshot) }

        let search = SnapshotSearch(repository: repo, index: try await repo.loadIndex(), pattern: pattern, ignoringCase: ignoreCase)
        let cache = SnapshotSearch.TreeMatches()
        var found: [FindJSON] = []
        var total = 0
        for entry in chosen {
            let matches = try await search.matches(in: entry.snapshot.tree, cache: cache)
            guard !matches.isEmpty else { continue }
            total += matches.count
            let item = FindJSON(
                snapshot: entry.id.hex, time: entry.snapshot.time, source: entry.snapshot.sourceName,
                matches: matches.map { FindJSON.Match(path: $0.path, type: $0.node.type.rawValue, size: $0.node.sizeBytes, mtime: $0.node.mtime.date) })
            if output.json {
                found.append(item)
                continue
            }
            let time = ISO8601.format(entry.snapshot.time)
            print("snapshot \(entry.id.shortHex) of \(time)\(item.source.map { " (source \($0))" } ?? ""):")
            let sizeWidth = matches.map { String($0.node.sizeBytes).count }.max() ?? 1
            for m in matches {
                let size = String(m.node.sizeBytes)
                print("  \(m.node.type.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(String(repeating: " ", count: sizeWidth - size.count))\(size)  \(ISO8601.format(m.node.mtime.date))  \(TerminalText.escaped(m.path))")
            }
        }
        if output.json {
            try JSONOutput.print(found)
        } else {
            print("\(total) match\(total == 1 ? "" : "es") in \(chosen.count) snapshot\(chosen.count == 1 ? "" : "s") searched")
        }
        if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }
}

struct FindJSON: Encodable {
    struct Match: Encodable {
        let path: String
        let type: String
        let size: UInt64
        let mtime: Date
    }

    let snapshot: String
    let time: Date
    let source: String?
    let matches: [Match]
}
