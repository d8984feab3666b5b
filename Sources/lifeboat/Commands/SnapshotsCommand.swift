import ArgumentParser
import Foundation
import LifeboatCore

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "List the snapshots, oldest first.",
        discussion: "A damaged snapshot is named on stderr and makes the exit status 13: it may be the newest one.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let repo = try await repository.open()
        let (all, damaged) = try await repo.listSnapshots()
        for d in damaged { FileHandle.standardError.write(Data("lifeboat: damaged: \(d)\n".utf8)) }
        if output.json {
            try JSONOutput.print(all)
            if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
            return
        }
        print("ID        Time                      Type          Host              Tags        Source  Paths")
        for e in all {
            let s = e.snapshot
            let time = ISO8601.format(s.time).prefix(19).replacingOccurrences(of: "T", with: " ")
            print(
                "\(e.id.shortHex)  \(time.padding(toLength: 24, withPad: " ", startingAt: 0))  \(s.type.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))  \(s.host.padding(toLength: 16, withPad: " ", startingAt: 0))  \(s.tags.joined(separator: ",").padding(toLength: 10, withPad: " ", startingAt: 0))  \(s.source.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(s.paths.joined(separator: " "))"
            )
        }
        print("\(all.count) snapshot\(all.count == 1 ? "" : "s")\(damaged.isEmpty ? "" : ", \(damaged.count) damaged")")
        if !damaged.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
    }
}
