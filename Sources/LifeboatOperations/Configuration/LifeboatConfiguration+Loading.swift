import Foundation
import Yams

extension LifeboatConfiguration {
    /// Reads, decodes and validates a configuration file.
    /// - Throws: ``ConfigurationError`` naming the file, the line when YAML gives one, and
    ///   what was expected.
    public static func load(_ path: String) throws -> LifeboatConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError.unreadable(file: path) }
        return try decode(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Decodes and validates a configuration's text, as read from `path` (named in errors;
    /// relative paths in it are taken relative to the current directory).
    /// - Throws: ``ConfigurationError`` naming the file, the line when YAML gives one, and
    ///   what was expected.
    public static func decode(_ text: String, file path: String) throws -> LifeboatConfiguration {
        // The node tree first: a syntax error has a line and a column, and every later
        // message finds its line in it.
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntax(error, file: path)
        }
        let lines = LineFinder(path: path, root: root)
        var config: LifeboatConfiguration
        do {
            config = try YAMLDecoder().decode(LifeboatConfiguration.self, from: text)
        } catch let error as YamlError {
            throw Self.syntax(error, file: path)
        } catch let unknown as ConfigurationKeys.Unknown {
            throw Self.unknownKey(unknown, lines: lines)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ConfigurationError.invalid(at: lines.at(context.codingPath), "\(Self.part(context.codingPath)) has no `\(key.stringValue)`, which it needs")
        } catch let DecodingError.typeMismatch(type, context) {
            let found = lines.value(at: context.codingPath).map { ", not \($0)" } ?? ""
            throw ConfigurationError.invalid(
                at: lines.at(context.codingPath), "`\(Self.setting(context.codingPath))` should be \(Self.plain(type))\(found)")
        } catch let DecodingError.valueNotFound(type, context) {
            throw ConfigurationError.invalid(at: lines.at(context.codingPath), "`\(Self.setting(context.codingPath))` is empty: it should be \(Self.plain(type))")
        } catch let DecodingError.dataCorrupted(context) {
            // Yams wraps what a part's decoder throws that is no DecodingError (an unknown key).
            if let unknown = context.underlyingError as? ConfigurationKeys.Unknown { throw Self.unknownKey(unknown, lines: lines) }
            // Our own decoders' sentences (an unknown role, with the values there are).
            throw ConfigurationError.invalid(at: lines.at(context.codingPath), context.debugDescription)
        } catch {
            throw ConfigurationError.invalid(at: path, "\(error)")
        }
        config.file = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        try config.validate(lines: lines)
        return config
    }

    /// `<file>:<line>:<column>: \`retenion\` is not a setting of a location: did you mean \`retention\`? (…)`.
    static func unknownKey(_ unknown: ConfigurationKeys.Unknown, lines: LineFinder) -> ConfigurationError {
        let guess = unknown.suggestion.map { ": did you mean `\($0)`?" } ?? ""
        return ConfigurationError.invalid(
            at: lines.at(unknown.codingPath, key: unknown.key),
            "`\(unknown.key)` is not a setting of \(unknown.part)\(guess) (\(unknown.part) takes \(unknown.known.joined(separator: ", ")))")
    }

    /// A YAML syntax error as `<file>:<line>:<column>: not valid YAML: <what>` (libyaml's
    /// words, without its snippet).
    static func syntax(_ error: YamlError, file: String) -> ConfigurationError {
        func context(_ c: YamlError.Context?) -> String { c.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? "" }
        switch error {
        case .scanner(let c, let problem, let mark, _), .parser(let c, let problem, let mark, _), .composer(let c, let problem, let mark, _):
            return .invalid(at: "\(file):\(mark.line):\(mark.column)", "not valid YAML: \(problem)\(context(c))")
        case .duplicatedKeysInMapping(let duplicates, let c):
            return .invalid(
                at: "\(file):\(c.mark.line):\(c.mark.column)",
                "\(duplicates.sorted().map { "`\($0)`" }.joined(separator: ", ")) given twice in the mapping that starts here")
        default:
            return .invalid(at: file, "not valid YAML: \(error)")
        }
    }

    /// The setting a coding path ends in, as written: `locations[0].retention.keepDaily`.
    static func setting(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    /// What the mapping at a coding path is: "the location locations[0]".
    static func part(_ path: [any CodingKey]) -> String {
        switch path.first?.stringValue {
        case nil: return "the configuration"
        case "locations" where path.count == 2: return "the location \(setting(path))"
        case "sources" where path.count == 2: return "the source \(setting(path))"
        case "schedules" where path.count == 2: return "the schedule \(setting(path))"
        default: return "`\(setting(path))`"
        }
    }

    /// A Swift type in a user's words.
    static func plain(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "a whole number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a text value"
        case is Node.Sequence.Type: return "a list (- item, or [a, b])"
        case is Node.Mapping.Type: return "a mapping (key: value)"
        case is Node.Scalar.Type: return "a single value, not a list or a mapping"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list (- item, or [a, b])" }
            return name.hasPrefix("Dictionary") ? "a mapping (key: value)" : "a value of another kind"
        }
    }
}

/// `file:line` of a section's entries, for error messages.
struct LineFinder {
    let path: String
    let root: Node?

    func at(_ section: String, _ i: Int) -> String {
        guard let line = root?[section]?[i]?.mark?.line else { return path }
        return "\(path):\(line)"
    }

    func at(_ section: String) -> String {
        root?[section]?.mark.map { "\(path):\($0.line)" } ?? path
    }

    /// `file:line:column` of the node a decoder's coding path names; with `key`, of that
    /// key in the mapping there (a key the decoder does not know has no path of its own).
    func at(_ codingPath: [any CodingKey], key: String? = nil) -> String {
        guard var node = node(at: codingPath) else { return path }
        if let key, let pair = node.mapping?.first(where: { $0.key.string == key }) { node = pair.key }
        return node.mark.map { "\(path):\($0.line):\($0.column)" } ?? path
    }

    /// The scalar at a coding path, quoted, for "should be a number, not 'seven'".
    func value(at codingPath: [any CodingKey]) -> String? {
        guard let node = node(at: codingPath) else { return nil }
        if let scalar = node.scalar { return "'\(scalar.string)'" }
        if node.mapping != nil { return "a mapping" }
        if node.sequence != nil { return "a list" }
        return nil
    }

    private func node(at codingPath: [any CodingKey]) -> Node? {
        var node = root
        for key in codingPath {
            if let i = key.intValue, let sequence = node?.sequence {
                node = i < sequence.count ? sequence[i] : nil
            } else {
                node = node?.mapping?.first(where: { $0.key.string == key.stringValue })?.value
            }
        }
        return node
    }
}
