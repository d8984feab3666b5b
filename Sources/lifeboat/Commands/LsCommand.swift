import ArgumentParser
import Foundation
import LifeboatCore

struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the entries of a snapshot.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var latest: LatestIntactOptions
    @OptionGroup var selection: SourceSelectionOptions

    @Argument(help: "Snapshot id (any unique prefix) or 'latest'.")
    var snapshot: String

    @Flag(name: [.short, .long], help: "Show type, mode, size and mtime.")
    var long = false

    func run() async throws {
        let repo = try await repository.open()
        let entry = try await selection.find(snapshot, in: repo, latest: latest)
        let index = try await repo.loadIndex()
        var items: [LsJSON] = []
        try await TreeWalker(repository: repo, index: index).walk(entry.snapshot.tree) { path, node in
            let item = LsJSON(
                path: path, type: node.type.rawValue, mode: String(node.mode, radix: 8), size: node.sizeBytes,
                mtime: ISO8601.format(node.mtime.date), uid: node.uid, gid: node.gid,
                linkTarget: node.linkTarget.map { String(decoding: $0, as: UTF8.self) })
            if output.json {
                items.append(item)
            } else if long {
                // Streamed, in columns wide enough for nearly every value; a longer one widens its
                // line rather than being cut.
                let columns = [(node.type.rawValue, 9), (item.mode, 5), (String(node.sizeBytes), 12)].map { TextTable.padded($0.0, to: $0.1) }
                print("\(columns.joined(separator: " ")) \(item.mtime.prefix(19))  \(TerminalText.escaped(path))\(item.linkTarget.map { " -> \(TerminalText.escaped($0))" } ?? "")")
            } else {
                print(TerminalText.escaped(path))
            }
        }
        if output.json { try JSONOutput.print(items) }
    }
}

struct LsJSON: Encodable {
    let path: String
    let type: String
    let mode: String
    let size: UInt64
    let mtime: String
    let uid: UInt32
    let gid: UInt32
    let linkTarget: String?
}
