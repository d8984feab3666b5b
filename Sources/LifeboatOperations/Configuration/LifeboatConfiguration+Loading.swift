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
        var config: LifeboatConfiguration
        do {
            config = try YAMLDecoder().decode(LifeboatConfiguration.self, from: text)
        } catch let error as YamlError {
            throw ConfigurationError.invalid(at: path, "\(error)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw ConfigurationError.invalid(at: path, "\(Self.where(context.codingPath)) lacks '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(type, context) {
            throw ConfigurationError.invalid(at: path, "\(Self.where(context.codingPath)) should be \(type): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigurationError.invalid(at: path, "\(Self.where(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw ConfigurationError.invalid(at: path, "\(error)")
        }
        config.file = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        // Line numbers for the checks, from the YAML node tree; without them the file is named.
        let root = try? Yams.compose(yaml: text)
        try config.validate(lines: LineFinder(path: path, root: root))
        return config
    }

    private static func `where`(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
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
}
