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

    func run() async throws {
        let repo = try await repository.open()
        let (listed, damaged) = try await repo.listSnapshots()
        let filter = filters.filter
        let all = listed.filter { filter.matches($0.snapshot) }
        for d in damaged { FileHandle.standardError.write(Data("lifeboat: damaged: \(d)\n".utf8)) }
        if output.json {
            try JSONOutput.print(all)
            if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
            return
        }
        var table = TextTable(header: ["ID", "Time", "Type", "Host", "Tags", "Source", "Paths"])
        for e in all {
            let s = e.snapshot
            let time = ISO8601.format(s.time).prefix(19).replacingOccurrences(of: "T", with: " ")
            table.append([
                e.id.shortHex, time, s.type.rawValue, s.host, s.tags.joined(separator: ","), s.source.kind.rawValue,
                s.paths.map(TerminalText.escaped).joined(separator: " "),
            ])
        }
        if !all.isEmpty { table.print() }
        let shown = filter.isEmpty ? "" : " of \(listed.count)"
        print("\(all.count)\(shown) snapshot\(all.count == 1 && shown.isEmpty ? "" : "s")\(damaged.isEmpty ? "" : ", \(damaged.count) damaged")")
        if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }
}
