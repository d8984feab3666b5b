import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show what the snapshots hold per source: restore size, unique content, stored size, deduplication.",
        discussion: """
            'restore' is what restoring the newest snapshot writes; 'unique' the distinct content of \
            all the source's snapshots (files and trees), before and after compression and sealing; \
            'dedup' how many bytes of all snapshots each unique byte stands for.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @OptionGroup var filter: SnapshotFilterOptions

    func run() async throws {
        let repo = try await repository.open()
        let (all, damaged) = try await repo.listSnapshots()
        for d in damaged { FileHandle.standardError.write(Data("lifeboat: damaged, not counted: \(d)\n".utf8)) }
        var chosen = all
        if !filter.filter.isEmpty {
            chosen = all.filter { filter.filter.matches($0.snapshot) }
            guard !chosen.isEmpty else {
                let onlySource = filter.source.count == 1 && filter.filter == SnapshotFilter(sources: filter.source)
                throw CLIError("no snapshot \(onlySource ? "of source '\(filter.source[0])'" : "matches the filters given"); 'lifeboat snapshots' lists them")
            }
        }
        let stats = try await RepositoryStatistics.gather(chosen, repository: repo, index: try await repo.loadIndex()) { $0.sourceName }
        if output.json {
            try JSONOutput.print(stats)
        } else {
            var rows = stats.groups.map { g in
                [
                    g.source ?? "(no source)", String(g.snapshots), "\(g.latestFiles) files, \(ByteFormat.string(g.latestBytes))",
                    ByteFormat.string(g.uniquePlainBytes), ByteFormat.string(g.uniqueStoredBytes), String(format: "%.2fx", g.deduplicationRatio),
                ]
            }
            // Content shared between sources counts once in the total; it has no newest snapshot of its own.
            let t = stats.total
            rows.append([
                "(all)", String(t.snapshots), "", ByteFormat.string(t.uniquePlainBytes), ByteFormat.string(t.uniqueStoredBytes),
                String(format: "%.2fx", t.deduplicationRatio),
            ])
            Self.printTable(header: ["source", "snapshots", "restore (newest)", "unique", "stored", "dedup"], rows: rows)
        }
        if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }

    /// Columns as wide as their widest value: nothing is cut.
    static func printTable(header: [String], rows: [[String]]) {
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}
