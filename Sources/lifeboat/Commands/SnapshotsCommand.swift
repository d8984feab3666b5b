import ArgumentParser
import Foundation
import LifeboatCore

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "List the snapshots, oldest first.",
        discussion: "A damaged snapshot is named on stderr and makes the exit status 13: it may be the newest one.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var filters: SnapshotFilterOptions
    @Option(help: "Show the snapshots in groups sharing these fields: source, host, tag (comma-separated).")
    var groupBy: SnapshotGroupByArgument?

    func run() async throws {
        let repo = try await repository.open()
        let (listed, damaged) = try await repo.listSnapshots()
        let filter = filters.filter
        let all = listed.filter { filter.matches($0.snapshot) }
        for d in damaged { FileHandle.standardError.write(Data("lifeboat: damaged: \(d)\n".utf8)) }
        if output.json {
            if let groupBy {
                try JSONOutput.print(SnapshotGrouping.groups(all, by: groupBy.fields).map(SnapshotGroupJSON.init))
            } else {
                try JSONOutput.print(all)
            }
            if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
            return
        }
        let groups = SnapshotGrouping.groups(all, by: groupBy?.fields ?? [])
        for (i, group) in groups.enumerated() where !group.entries.isEmpty {
            if groupBy != nil {
                if i > 0 { print("") }
                print(group.key.map { "\($0.field.rawValue) \($0.value.isEmpty ? "(none)" : TerminalText.escaped($0.value))" }.joined(separator: ", ") + ":")
            }
            Self.table(group.entries).print()
        }
        if groupBy != nil && !all.isEmpty { print("") }
        let shown = filter.isEmpty ? "" : " of \(listed.count)"
        print("\(all.count)\(shown) snapshot\(all.count == 1 && shown.isEmpty ? "" : "s")\(damaged.isEmpty ? "" : ", \(damaged.count) damaged")")
        if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }

    private static func table(_ entries: [SnapshotEntry]) -> TextTable {
        var table = TextTable(header: ["ID", "Time", "Type", "Host", "Tags", "Source", "Paths"])
        for e in entries {
            let s = e.snapshot
            let time = ISO8601.format(s.time).prefix(19).replacingOccurrences(of: "T", with: " ")
            table.append([
                e.id.shortHex, time, s.type.rawValue, s.host, s.tags.joined(separator: ","), s.source.kind.rawValue,
                s.paths.map(TerminalText.escaped).joined(separator: " "),
            ])
        }
        return table
    }
}

/// `--group-by source,host,tag`: the fields, each once, in the order given.
struct SnapshotGroupByArgument: ExpressibleByArgument {
    let fields: [SnapshotGrouping.Field]

    init?(argument: String) {
        var fields: [SnapshotGrouping.Field] = []
        for name in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let field = SnapshotGrouping.Field(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else { return nil }
            if !fields.contains(field) { fields.append(field) }
        }
        guard !fields.isEmpty else { return nil }
        self.fields = fields
    }

    static var defaultCompletionKind: CompletionKind { .list(SnapshotGrouping.Field.allCases.map(\.rawValue)) }
}

/// One group of `snapshots --group-by --json`: `{"group": {"source": …}, "snapshots": [...]}`.
struct SnapshotGroupJSON: Encodable {
    let group: [String: String]
    let snapshots: [SnapshotEntry]

    init(_ group: SnapshotGrouping.Group) {
        self.group = Dictionary(uniqueKeysWithValues: group.key.map { ($0.field.rawValue, $0.value) })
        self.snapshots = group.entries
    }
}
