import ArgumentParser
import Foundation
import LifeboatCore

/// Where the repository is and how to unlock it: flags first, then the environment
/// (LIFEBOAT_REPOSITORY, LIFEBOAT_PASSWORD, LIFEBOAT_PASSWORD_FILE).
struct RepositoryOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .long], help: "Repository location (a directory). Default: $LIFEBOAT_REPOSITORY.")
    var repo: String?

    @Option(name: .long, help: "File whose first line is the passphrase. Default: $LIFEBOAT_PASSWORD_FILE, then $LIFEBOAT_PASSWORD.")
    var passwordFile: String?

    @Option(name: .long, help: "Configuration file. Default: $LIFEBOAT_CONFIG, then ./lifeboat.yaml when it exists.")
    var config: String?

    /// The configuration, when one is given or ./lifeboat.yaml exists.
    func configuration() throws -> LifeboatConfiguration? {
        if let path = config ?? environment["LIFEBOAT_CONFIG"] { return try LifeboatConfiguration.load(path) }
        if FileManager.default.fileExists(atPath: "lifeboat.yaml") { return try LifeboatConfiguration.load("lifeboat.yaml") }
        return nil
    }

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func location() throws -> String {
        if let repo = repo ?? environment["LIFEBOAT_REPOSITORY"], !repo.isEmpty { return repo }
        if let primary = try configuration()?.primary { return primary.path }
        throw CLIError("no repository given: use --repo, set LIFEBOAT_REPOSITORY, or name a PRIMARY location in lifeboat.yaml")
    }

    @Option(name: .long, help: "S3 endpoint for s3:// repositories (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, then AWS).")
    var s3Endpoint: String?

    @Option(name: .long, help: "S3 region (default: $AWS_REGION, $AWS_DEFAULT_REGION, then us-east-1).")
    var s3Region: String?

    func backend(create: Bool = false) async throws -> any StorageBackend {
        let location = try location()
        if location.hasPrefix("s3://") {
            let s3 = try S3Location.backend(location, endpoint: s3Endpoint, region: s3Region, environment: environment)
            if create { try await s3.createBucketIfMissing() }
            return PackCachingBackend(RetryingBackend(s3))
        }
        do {
            return try LocalDirectoryBackend(path: location, create: create)
        } catch StorageError.locationNotFound where !create {
            throw RepositoryError.notARepository(location: location)
        } catch StorageError.locationNotFound {
            throw CLIError("cannot create the repository directory \(location): does its parent exist?")
        }
    }

    /// The passphrase, from a file, the environment, or (on a terminal) a prompt.
    func passphrase(confirm: Bool = false, ignoringEnvironment: Bool = false) throws -> String {
        let environment = ignoringEnvironment ? [:] : self.environment
        // Last before the prompt: where lifeboat.yaml says the passphrase is.
        let configured = ignoringEnvironment ? nil : (try? configuration())?.passphrase
        if let file = passwordFile ?? environment["LIFEBOAT_PASSWORD_FILE"] ?? configured?.file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read the password file \(file): check that it exists and is readable")
            }
            let text = String(decoding: data, as: UTF8.self)
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let phrase = line.hasSuffix("\r") ? String(line.dropLast()) : line
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

    func open() async throws -> Repository {
        let backend = try await backend()
        return try await Repository.open(backend: backend, passphrase: try passphrase())
    }
}

/// `--json`: machine-readable output on stdout, nothing else there.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

enum Identity {
    static var host: String {
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "localhost"
    }

    static var username: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "\(geteuid())"
    }
}
