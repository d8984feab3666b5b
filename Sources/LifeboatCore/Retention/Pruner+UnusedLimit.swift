import Foundation

extension Pruner {
    /// How much unused data a prune may leave in packs still partly in use (restic's
    /// `--max-unused`): a share of the repository after the prune, a number of bytes, or no limit.
    public enum UnusedLimit: Sendable, Equatable, CustomStringConvertible {
        /// `percent` of the packs' size after the prune may be unused (0 repacks every partly used pack).
        case percent(Double)
        case bytes(Int64)
        /// Nothing is repacked; only packs with nothing in use are deleted.
        case unlimited

        /// restic's default: at most 5% of what is stored is unused.
        public static let `default` = UnusedLimit.percent(5)

        /// The unused bytes allowed when `used` bytes stay in use: for a percentage p, unused
        /// may be p% of used + unused, that is used * p / (100 - p).
        public func maxUnusedBytes(used: Int64) -> Int64 {
            switch self {
            case .percent(let p): p >= 100 ? .max : Int64((Double(used) * p / (100 - p)).rounded(.down))
            case .bytes(let n): n
            case .unlimited: .max
            }
        }

        /// `5%`, `2.5%`, a size (`500M`, `1G`, `1048576`; k, m, g, t as powers of 1024,
        /// case aside, an optional trailing B or iB), or `unlimited`; nil otherwise.
        public init?(parsing text: String) {
            let t = text.trimmingCharacters(in: .whitespaces).lowercased()
            if t == "unlimited" {
                self = .unlimited
                return
            }
            if t.hasSuffix("%") {
                guard let p = Double(t.dropLast()), p.isFinite, p >= 0, p <= 100 else { return nil }
                self = .percent(p)
                return
            }
            var digits = Substring(t)
            for suffix in ["ib", "b"] where digits.hasSuffix(suffix) {
                digits = digits.dropLast(suffix.count)
                break
            }
            var multiplier: Int64 = 1
            if let unit = digits.last, let power = ["k": 1, "m": 2, "g": 3, "t": 4][String(unit)] {
                multiplier = Int64(1) << (10 * power)
                digits = digits.dropLast()
            }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int64(digits), n >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
            guard !overflow else { return nil }
            self = .bytes(product)
        }

        public var description: String {
            switch self {
            case .percent(let p): p == p.rounded() ? "\(Int(p))%" : "\(p)%"
            case .bytes(let n): "\(n) bytes"
            case .unlimited: "unlimited"
            }
        }
    }
}
