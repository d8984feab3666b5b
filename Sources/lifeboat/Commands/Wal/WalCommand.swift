import ArgumentParser

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
