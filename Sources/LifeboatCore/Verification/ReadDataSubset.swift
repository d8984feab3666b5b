import Foundation

/// Which packs and archived WAL objects `check --read-data-subset` reads: a share of them,
/// so that a large repository is read in full over several runs (as restic's flag).
///
/// `n/m` reads group n of m: an object's group comes from its name (a SHA-256, so groups
/// are even), the same on every run, so running 1/7 to 7/7 on seven days reads everything
/// once a week. `x%` reads that share of the objects, chosen anew at random each run.
public enum ReadDataSubset: Sendable, Equatable, CustomStringConvertible {
    case group(Int, of: Int)
    case percent(Double)

    /// Parses `n/m` (1 <= n <= m) or `x%` (0 < x <= 100).
    /// - Throws: ``ReadDataSubsetError`` naming what was expected.
    public init(parsing text: String) throws(ReadDataSubsetError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let x = Double(trimmed.dropLast()), x > 0, x <= 100 else { throw ReadDataSubsetError(text) }
            self = .percent(x)
            return
        }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]), m >= 1, n >= 1, n <= m else { throw ReadDataSubsetError(text) }
        self = .group(n, of: m)
    }

    public var description: String {
        switch self {
        case .group(let n, let m): "\(n)/\(m)"
        case .percent(let x): "\(x.formatted(.number.precision(.fractionLength(0...2))))%"
        }
    }

    /// The objects to read, in the order given.
    func select<T>(_ objects: [T], name: (T) -> String) -> [T] {
        switch self {
        case .group(let n, let m):
            return objects.filter { Self.group(of: name($0), groups: m) == n - 1 }
        case .percent(let x):
            guard !objects.isEmpty else { return [] }
            // At least one object: a small repository checked at 1% is still read a little.
            let count = max(1, Int((Double(objects.count) * x / 100).rounded(.up)))
            let chosen = Set(objects.indices.shuffled().prefix(count))
            return objects.indices.filter { chosen.contains($0) }.map { objects[$0] }
        }
    }

    /// The group of a name: a SHA-256 name's first 16 hex digits as a number (uniform
    /// already), another name's (a WAL file's) own SHA-256.
    private static func group(of name: String, groups: Int) -> Int {
        let leaf = name.split(separator: "/").last.map(String.init) ?? name
        let value: UInt64
        if leaf.count == 64, let head = UInt64(leaf.prefix(16), radix: 16) {
            value = head
        } else {
            value = Digest256.sha256(Array(leaf.utf8)).bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
        return Int(value % UInt64(groups))
    }
}

public struct ReadDataSubsetError: Error, Equatable, CustomStringConvertible {
    public let text: String
    init(_ text: String) { self.text = text }
    public var description: String {
        "'\(text)' is not a subset to read: give n/m (group n of m, 1 <= n <= m, e.g. 1/7) or x% (0 < x <= 100, e.g. 10%)"
    }
}
