import ArgumentParser
import Foundation
import LifeboatCore

struct WalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal", abstract: "Archive PostgreSQL's WAL: archive_command and restore_command.",
        discussion: """
            In postgresql.conf: archive_mode = on, archive_command = 'lifeboat wal push %p' and, \
            when restoring, restore_command = 'lifeboat wal fetch %f %p' (restore-db writes that \
            one). Both run as the server's OS user, which must be able to read the repository \
            options: pass --repo and --password-file on the command line, or set them in the \
            server's environment.
            """,
        subcommands: [WalPushCommand.self, WalFetchCommand.self, WalListCommand.self])
}

struct WalPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Store one WAL file (archive_command).",
        discussion: """
            Compresses and seals the file and returns 0 only once it is durable in the repository. \
            Pushing a file again with identical content succeeds without writing; a different file \
            under an archived name fails (exit 1) and leaves the archived one as it was.
            """)
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The file (%p): a WAL segment, .history, .backup or .partial file.")
    var path: String

    func run() async throws {
        let repo = try await repository.open()
        _ = try await WalArchive(repository: repo).push(path: path, host: Identity.host, username: Identity.username)
    }
}

struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Write one archived WAL file to a path (restore_command).",
        discussion: "Exits 1 when the file is not archived (PostgreSQL asks for files that may not exist, and takes 1 as 'no such file').")
    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The archived file's name (%f).")
    var name: String

    @Argument(help: "Where to write it (%p).")
    var path: String

    @Option(name: .long, help: "Also fetch the next N segments into --spool, and take segments from there first (restore-db sets this).")
    var prefetch: Int = 0

    @Option(name: .long, help: "A folder only the database's user can write, for --prefetch.")
    var spool: String?

    func validate() throws {
        if prefetch < 0 || prefetch > 64 { throw ValidationError("--prefetch must be between 0 and 64") }
        if prefetch > 0 && spool == nil { throw ValidationError("--prefetch needs --spool") }
    }

    func run() async throws {
        guard let file = WalFileName(name) else { throw WalArchiveError.notAWalFile(name) }
        if let spool, prefetch > 0 {
            try await WalArchive.fetchSpooled(file, to: path, spool: spool, count: prefetch) { try await repository.open() }
            return
        }
        let repo = try await repository.open()
        _ = try await WalArchive(repository: repo).fetch(file, to: path)
    }
}

struct WalListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the archived WAL files.")
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let entries = try await WalArchive(repository: try await repository.open()).list()
        if output.json {
            try JSONOutput.print(entries.map { WalJSON(name: $0.file.name, timeline: $0.file.timeline, storedBytes: $0.storedBytes) })
        } else {
            for e in entries { print("\(e.file.name)  timeline \(e.file.timeline)  \(ByteFormat.string(Int64(e.storedBytes)))") }
            if entries.isEmpty { FileHandle.standardError.write(Data("no WAL archived\n".utf8)) }
        }
    }
}

struct WalJSON: Encodable {
    let name: String
    let timeline: UInt32
    let storedBytes: Int
}
