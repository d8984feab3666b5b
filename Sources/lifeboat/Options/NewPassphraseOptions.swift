import ArgumentParser
import Foundation
import LifeboatCore

/// The new passphrase of `key add` and `key passwd`: from a file, or typed twice on a terminal.
struct NewPassphraseOptions: ParsableArguments {
    @Option(name: .long, help: "File whose first line is the new passphrase.")
    var newPasswordFile: String?

    @Option(help: ArgumentHelp("scrypt cost N (a power of two) for the new key.", visibility: .hidden))
    var kdfN: Int = KDFParameters.standard.n

    func passphrase() throws -> String {
        var options = try RepositoryOptions.parse([])
        options.passwordFile = newPasswordFile
        guard newPasswordFile != nil || isatty(0) == 1 else {
            throw CLIError("no new passphrase: use --new-password-file")
        }
        return try options.passphrase(confirm: true, ignoringEnvironment: true)
    }

    var kdf: KDFParameters { KDFParameters(n: kdfN, r: 8, p: 1) }
}
