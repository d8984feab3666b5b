import Foundation

/// Where secrets come from: environment variables and files, never lifeboat.yaml. The
/// environment is a value handed in, so a daemon and the tests decide what it holds.
public struct SecretLookup: Sendable {
    public var environment: [String: String]

    /// Secrets from `environment` (the process's for the CLI) and the files it names.
    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// A secret from an environment variable or the first line of a file; nil when neither is named.
    /// - Parameter what: what the secret is for, as the error names it ("the catalog").
    public func secret(environment name: String?, file: String?, for what: String) throws -> String? {
        if let name {
            guard let value = environment[name], !value.isEmpty else {
                throw ConfigurationError.missingSecret("\(what): the environment variable \(name) named by passwordEnv is not set")
            }
            return value
        }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError.missingSecret("\(what): cannot read the passwordFile \(file)")
            }
            let line = Self.firstLine(of: data)
            guard !line.isEmpty else { throw ConfigurationError.missingSecret("\(what): the passwordFile \(file) is empty") }
            return line
        }
        return nil
    }

    /// The first line of a secret file, without its line ending (`\n` or `\r\n`).
    public static func firstLine(of data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}
