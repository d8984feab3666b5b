import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct WalListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the archived WAL files.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (entries, rejected) = try await WalArchive(repository: try await repository.open(scope: .walArchive)).listing()
        if output.json {
            try JSONOutput.print(entries)
        } else {
            for e in entries { print("\(e.file.name)  timeline \(e.file.timeline)  \(ByteFormat.string(Int64(e.storedBytes)))") }
            if entries.isEmpty { FileHandle.standardError.write(Data("no WAL archived\n".utf8)) }
        }
        try RejectedKeysOutput.warn(rejected)
    }
}
