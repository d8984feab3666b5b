/// How hard a backup compresses its blobs: time against size (`backup --compression`).
/// Restores and other readers need no setting: every blob says whether it is compressed.
public enum CompressionMode: String, Sendable, CaseIterable, Codable {
    /// zstd level 3: close to the best size per CPU second.
    case auto
    /// zstd level 1: faster, a few percent larger (BENCHMARKS.md gives the figures).
    case fastest
    /// zstd level 12: smaller, several times slower (level 19 took 20 times as long as
    /// level 3 for 6% less on the benchmark corpus; restic's `max` is of this order too).
    case max

    public var zstdLevel: Int32 {
        switch self {
        case .auto: 3
        case .fastest: 1
        case .max: 12
        }
    }
}
