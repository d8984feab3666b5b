import Foundation

/// A strict parser of the Prometheus text exposition format (0.0.4): every line is a
/// comment (`# HELP`, `# TYPE` with a known type), blank, or a sample
/// `name{label="value",…} value [timestamp]` with a valid name, escaped label values and a
/// float value. Anything else is an error naming the line, so a test of `/metrics` fails on
/// output a Prometheus server would refuse.
public struct PrometheusText: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let text: String
        public let why: String
        public var description: String { "line \(line) '\(text)': \(why)" }
    }

    public private(set) var samples: [Sample] = []
    /// `# TYPE` of each metric family.
    public private(set) var types: [String: String] = [:]

    public init(_ text: String) throws {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            func fail(_ why: String) -> ParseError { ParseError(line: n, text: String(line), why: why) }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                if parts.count >= 2 && parts[1] == "TYPE" {
                    guard parts.count == 4, Self.isName(parts[2]), ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("a TYPE line is '# TYPE name counter|gauge|histogram|summary|untyped'")
                    }
                    guard types.updateValue(parts[3], forKey: parts[2]) == nil else { throw fail("a second TYPE for \(parts[2])") }
                }
                continue
            }
            var rest = Substring(line)
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            guard Self.isName(name) else { throw fail("not a metric name") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let key = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                    guard Self.isName(key), !key.contains(":") else { throw fail("not a label name") }
                    rest = rest.dropFirst(key.count)
                    guard rest.hasPrefix("=\"") else { throw fail("a label is name=\"value\"") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let c = rest.first, c != "\"" {
                        rest = rest.dropFirst()
                        if c == "\\" {
                            guard let e = rest.first else { throw fail("an escape at the end") }
                            rest = rest.dropFirst()
                            switch e {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw fail("an unknown escape \\\(e)")
                            }
                        } else {
                            value.append(c)
                        }
                    }
                    guard rest.first == "\"" else { throw fail("an unterminated label value") }
                    rest = rest.dropFirst()
                    guard labels.updateValue(value, forKey: key) == nil else { throw fail("label \(key) twice") }
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            let fields = rest.split(separator: " ")
            guard rest.first == " ", (1...2).contains(fields.count) else { throw fail("a sample is name{labels} value [timestamp]") }
            guard let value = Self.float(fields[0]) else { throw fail("'\(fields[0])' is not a float") }
            if fields.count == 2, Int64(fields[1]) == nil { throw fail("'\(fields[1])' is not a timestamp in ms") }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    static func isName(_ s: String) -> Bool {
        let scalars = Array(s.unicodeScalars)
        func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":" }
        guard let first = scalars.first, isLetter(first) else { return false }
        return scalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
    }

    static func float(_ s: Substring) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(s)
        }
    }

    /// The value of the one sample with this name and these labels.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { $0.name == name && $0.labels == labels }
        return matching.count == 1 ? matching[0].value : nil
    }
}
