/// Failures of the key hierarchy and of sealing.
public enum CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No key file of the repository opens with the passphrase given.
    case wrongPassphrase
    /// A sealed object failed authentication: it was damaged or made with another key.
    case authenticationFailed(what: String)
    /// A key file or sealed object does not have the expected layout.
    case malformed(what: String, reason: String)
    /// The key-derivation parameters in a key file are out of the accepted range.
    case unsupportedKDF(String)
    /// The passphrase opens a WAL-only key file, and more than archived WAL was asked for.
    case walOnlyKey

    public var description: String {
        switch self {
        case .wrongPassphrase:
            return "the passphrase does not open any key of this repository: check the passphrase given and where it comes from"
        case .authenticationFailed(let what):
            return "\(what) failed authentication: it is damaged or was not written with this repository's keys"
        case .malformed(let what, let reason):
            return "\(what) is malformed (\(reason))"
        case .walOnlyKey:
            return "the passphrase opens only a WAL-only key: it archives and fetches WAL and opens nothing else; use a passphrase of the whole repository"
        case .unsupportedKDF(let detail):
            return "unsupported key derivation parameters \(detail): lifeboat accepts scrypt with N a power of two up to 2^20, r up to 32, p up to 16, 128·N·r up to 1 GiB and 128·N·r·p up to 2 GiB; make the key again with the standard parameters"
        }
    }
}
