import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

struct KeyRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Make a new master key and re-seal every data key under it, on every location (no data is rewritten).",
        discussion: """
            Only the passphrase used for the rotation keeps working; add others again with 'key add'. \
            With lifeboat.yaml, every other location but AIR_GAPPED is rotated too, so that the old \
            master key opens nothing anywhere. A location that cannot be reached, or a write-once \
            medium (which keeps its old key files), is reported and makes the exit status 3, as does a \
            data key file that does not open with the master key (it is left as it was, never deleted); \
            air-gapped bundles keep the keys they were exported with: export them again.
            """)
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("scrypt cost N (a power of two) for the new key.", visibility: .hidden))
    var kdfN: Int = KDFParameters.standard.n

    func run() async throws {
        let repo = try await repository.open()
        let passphrase = try repository.passphrase()
        let kdf = KDFParameters(n: kdfN, r: 8, p: 1)
        let report: KeyRotation.Report
        if try repository.configuration() != nil {
            report = try await KeyRotation(context: try repository.context(for: "key rotate")).rotate(
                repo, repositoryPath: try repository.location(), passphrase: passphrase, kdf: kdf)
        } else {
            let me = Requester.current
            let here = try await KeyManager(repository: repo).rotate(passphrase: passphrase, kdf: kdf, host: me.host, username: me.username)
            report = KeyRotation.Report(
                newKey: here.newKey.name, dataKeysResealed: here.dataKeysResealed, keyFilesRetired: here.keyFilesRetired,
                dataKeyFilesKept: here.dataKeyFilesKept.map(\.path), locations: [])
        }
        if output.json {
            try JSONOutput.print(report)
        } else {
            print("rotated the master key: \(report.dataKeysResealed) data keys re-sealed, \(report.keyFilesRetired) key files retired, new key \(report.newKey.prefix(8))")
            for r in report.locations {
                print(r.error.map { "  \(r.location): NOT ROTATED: \($0)" } ?? "  \(r.location): \(r.dataKeysResealed) data keys re-sealed, \(r.keyFilesRetired) key files retired")
            }
        }
        for name in report.keptEverywhere {
            FileHandle.standardError.write(Data("lifeboat: warning: \(name) does not open with the master key (damaged, or not this repository's): left as it was; check the repository\n".utf8))
        }
        if !report.keptEverywhere.isEmpty && report.incomplete.isEmpty { throw ExitCode(ExitStatus.partial.rawValue) }
        if !report.incomplete.isEmpty {
            FileHandle.standardError.write(Data("lifeboat: warning: the old master key still opens \(report.incomplete.joined(separator: ", "))\n".utf8))
            throw ExitCode(ExitStatus.partial.rawValue)
        }
    }
}
