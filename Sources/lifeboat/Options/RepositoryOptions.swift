import ArgumentParser
import Foundation
import LifeboatCore
import LifeboatOperations

/// Where the repository is and how to unlock it: flags first, then the environment
/// (LIFEBOAT_REPOSITORY, LIFEBOAT_PASSWORD, LIFEBOAT_PASSWORD_FILE), then lifeboat.yaml.
struct RepositoryOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .long], help: "Repository location (a directory). Default: $LIFEBOAT_REPOSITORY.")
    var repo: String?

    @Option(name: .long, help: "File whose first line is the passphrase. Default: $LIFEBOAT_PASSWORD_FILE, then $LIFEBOAT_PASSWORD.")
    var passwordFile: String?

    @Option(name: .long, help: "Configuration file. Default: $LIFEBOAT_CONFIG, then ./lifeboat.yaml when it exists.")
    var config: String?

    @Option(name: .long, help: "S3 endpoint for s3:// repositories (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, then AWS).")
    var s3Endpoint: String?

    @Option(name: .long, help: "S3 region (default: $AWS_REGION, $AWS_DEFAULT_REGION, then us-east-1).")
    var s3Region: String?

    @Option(name: .long, help: ArgumentHelp("Most KiB/s written to S3 locations (over their limits.upload).", valueName: "KiB/s"))
    var limitUpload: Int?

    @Option(name: .long, help: ArgumentHelp("Most KiB/s read from S3 locations (over their limits.download).", valueName: "KiB/s"))
    var limitDownload: Int?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func validate() throws {
        for (flag, value) in [("--limit-upload", limitUpload), ("--limit-download", limitDownload)] {
            if let value, value < 1 { throw ValidationError("\(flag) is in KiB/s and must be at least 1, not \(value); leave it out for no limit") }
        }
    }

    /// The configuration, when one is given or ./lifeboat.yaml exists.
    func configuration() throws -> LifeboatConfiguration? {
        if let path = config ?? environment["LIFEBOAT_CONFIG"] { return try LifeboatConfiguration.load(path) }
        if FileManager.default.fileExists(atPath: "lifeboat.yaml") { return try LifeboatConfiguration.load("lifeboat.yaml") }
        return nil
    }

    /// The configuration, which `verb` cannot do without.
    func requireConfiguration(for verb: String) throws -> LifeboatConfiguration {
        guard let config = try configuration() else {
            throw ConfigurationError.notConfigured("\(verb) needs lifeboat.yaml: pass --config FILE, set LIFEBOAT_CONFIG, or create ./lifeboat.yaml")
        }
        return config
    }

    /// The backends of this command's locations, on the process's HTTP client.
    var backends: LocationBackends {
        LocationBackends(
            environment: environment, s3Endpoint: s3Endpoint, s3Region: s3Region, limits: .init(upload: limitUpload, download: limitDownload),
            sharing: CLIResources.httpClient)
    }

    /// Everything an Operations call needs, for a command that needs lifeboat.yaml.
    func context(for verb: String) throws -> OperationsContext {
        OperationsContext(
            configuration: try requireConfiguration(for: verb), secrets: SecretLookup(environment: environment), backends: backends,
            programVersion: Lifeboat.version, logger: CLILogging.logger)
    }

    /// Whether the repository was named by a flag or the environment rather than lifeboat.yaml.
    var isRepositoryGivenDirectly: Bool { repo != nil || environment["LIFEBOAT_REPOSITORY"] != nil }

    func location() throws -> String {
        if let repo = repo ?? environment["LIFEBOAT_REPOSITORY"], !repo.isEmpty { return repo }
        if let primary = try configuration()?.primary { return primary.path }
        throw LocationError.noRepository
    }

    func backend(create: Bool = false) async throws -> any StorageBackend {
        try await backends.backend(path: try location(), create: create)
    }

    /// The file the passphrase is read from, if any: the flag, the environment, lifeboat.yaml.
    var passwordFileInUse: String? {
        // A configuration that does not load names no file; the command reports it where it loads it.
        passwordFile ?? environment["LIFEBOAT_PASSWORD_FILE"] ?? (try? configuration())?.passphrase?.file
    }

    /// Where ``passphrase(confirm:ignoringEnvironment:)`` takes the passphrase from, in words
    /// for a message ("the file /etc/lifeboat/pass (passphrase: in /etc/lifeboat.yaml)");
    /// nil for a prompt.
    func passphraseOrigin(ignoringEnvironment: Bool = false) -> String? {
        let environment = ignoringEnvironment ? [:] : self.environment
        if let file = passwordFile { return "the file \(file) (--password-file)" }
        if let file = environment["LIFEBOAT_PASSWORD_FILE"] { return "the file \(file) (LIFEBOAT_PASSWORD_FILE)" }
        // A configuration that does not load names nothing; the command reports it where it loads it.
        let loaded = ignoringEnvironment ? nil : try? configuration()
        if let file = loaded?.passphrase?.file { return "the file \(file) (passphrase: in \(loaded?.file ?? "lifeboat.yaml"))" }
        if let phrase = environment["LIFEBOAT_PASSWORD"], !phrase.isEmpty { return "LIFEBOAT_PASSWORD" }
        if let name = loaded?.passphrase?.env { return "the environment variable \(name) (passphrase: in \(loaded?.file ?? "lifeboat.yaml"))" }
        return nil
    }

    /// The passphrase, from a file, the environment, or (on a terminal) a prompt.
    func passphrase(confirm: Bool = false, ignoringEnvironment: Bool = false) throws -> String {
        let environment = ignoringEnvironment ? [:] : self.environment
        // A wrong passphrase's message names where it came from.
        PassphraseOrigin.last = passphraseOrigin(ignoringEnvironment: ignoringEnvironment)
        // Last before the prompt: where lifeboat.yaml says the passphrase is.
        let configured = ignoringEnvironment ? nil : (try? configuration())?.passphrase
        if let file = passwordFile ?? environment["LIFEBOAT_PASSWORD_FILE"] ?? configured?.file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read the password file \(file): check that it exists and is readable")
            }
            let phrase = SecretLookup.firstLine(of: data)
            guard !phrase.isEmpty else { throw CLIError("the password file \(file) is empty") }
            return phrase
        }
        if let phrase = environment["LIFEBOAT_PASSWORD"], !phrase.isEmpty { return phrase }
        if let name = configured?.env {
            guard let phrase = environment[name], !phrase.isEmpty else {
                throw CLIError("the passphrase: the environment variable \(name) named in lifeboat.yaml is not set")
            }
            return phrase
        }
        guard isatty(0) == 1 else {
            throw CLIError("no passphrase given: use --password-file, LIFEBOAT_PASSWORD_FILE or LIFEBOAT_PASSWORD")
        }
        guard let p = getpass("enter passphrase: ") else { throw CLIError("no passphrase entered") }
        let phrase = String(cString: p)
        if confirm {
            guard let again = getpass("enter passphrase again: "), String(cString: again) == phrase else {
                throw CLIError("the passphrases do not match")
            }
        }
        guard !phrase.isEmpty else { throw CLIError("an empty passphrase is not allowed") }
        return phrase
    }

    /// Opens the repository; only the WAL verbs pass ``Repository/Scope/walArchive``, which
    /// also accepts a WAL-only passphrase.
    func open(scope: Repository.Scope = .full) async throws -> Repository {
        let backend = try await backend()
        let repo = try await Repository.open(backend: backend, passphrase: try passphrase(), scope: scope)
        for w in repo.keyFileWarnings { FileHandle.standardError.write(Data("lifeboat: warning: \(w)\n".utf8)) }
        return repo
    }

    /// How a restored PostgreSQL cluster fetches WAL from `location` (default: the repository).
    func walRestoreCommand(at location: String? = nil) throws -> WalRestoreCommand {
        try WalRestoreCommand(location: try location ?? self.location(), passwordFile: passwordFileInUse, s3Endpoint: s3Endpoint, s3Region: s3Region)
    }
}

/// `--json`: machine-readable output on stdout, nothing else there.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

/// How a long verb shows its progress on stderr (docs/cli.md, "Progress").
struct ProgressOptions: ParsableArguments {
    @Flag(name: [.customShort("q"), .long], help: "No progress on stderr.")
    var quiet = false

    @Flag(name: [.customShort("v"), .long], help: "Progress on stderr even when it is not a terminal: a line every few seconds (JSON lines with --json).")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other: give one") }
    }

    /// What to show, given `--json`: on a terminal a line that updates itself; with
    /// `--verbose` plain or JSON lines (so a supervisor's log gets them); otherwise nothing.
    func mode(json: Bool) -> ProgressDisplay.Mode {
        if quiet { return .off }
        if verbose { return json ? .jsonLines : .lines }
        return !json && isatty(2) == 1 ? .terminal : .off
    }
}
