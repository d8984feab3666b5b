import Foundation
import Yams

/// A plan as read from a document, with where each part of it is written, for errors.
public struct ParsedRecoveryPlan {
    public let plan: RecoveryPlan
    /// The text as given: what the catalog stores as the revision.
    public let document: String
    let lines: PlanLines
}

/// `file:line` of a plan's parts, from the YAML node tree; the file alone when unknown.
struct PlanLines {
    let file: String
    let root: Node?

    func at(_ path: [any CodingKey]) -> String {
        var node = root
        var found = root?.mark?.line
        for key in path {
            if let i = key.intValue { node = node?[i] } else { node = node?[key.stringValue] }
            guard let line = node?.mark?.line else { break }
            found = line
        }
        return found.map { "\(file):\($0)" } ?? file
    }

    func step(_ i: Int, _ field: String? = nil) -> String {
        at([Key("steps"), Key(i)] + (field.map { [Key($0)] } ?? []))
    }

    func top(_ field: String) -> String { at([Key(field)]) }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ s: String) { stringValue = s }
        init(_ i: Int) { stringValue = "\(i)"; intValue = i }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { self.init(intValue) }
    }
}

extension RecoveryPlan {
    /// The keys a plan and a step may have: any other is a typo the plan must not hide.
    static let topKeys: Set<String> = ["name", "systemType", "rto", "rpo", "description", "steps", "team", "contacts", "vendors", "regulatory", "testing"]
    static let stepKeys: Set<String> = [
        "name", "type", "source", "snapshot", "target", "location", "toTime", "toLsn", "toName", "query", "command", "environment", "url",
        "expectStatus", "webhook", "message", "duration", "timeout", "retries", "critical", "runInTest", "after",
    ]

    /// Reads a plan file (YAML or JSON) without checking it against lifeboat.yaml.
    /// - Throws: ``RecoveryPlanError`` naming the file, the line and what was expected.
    public static func load(_ path: String) throws -> ParsedRecoveryPlan {
        guard let data = FileManager.default.contents(atPath: path) else { throw RecoveryPlanError.unreadable(file: path) }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses a plan's text (YAML, or JSON, which is YAML too); `file` names it in errors.
    /// - Throws: ``RecoveryPlanError`` naming the file, the line and what was expected.
    public static func parse(_ text: String, file: String) throws -> ParsedRecoveryPlan {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw RecoveryPlanError.invalid(at: file, "not YAML or JSON: \(error)")
        }
        let lines = PlanLines(file: file, root: root)
        guard let mapping = root?.mapping else { throw RecoveryPlanError.invalid(at: file, "a plan is a mapping with name, systemType and steps") }
        try refuseUnknownKeys(mapping, allowed: topKeys, at: { lines.top($0) }, what: "a plan")
        if let steps = mapping["steps"]?.sequence {
            for (i, step) in steps.enumerated() {
                guard let fields = step.mapping else { throw RecoveryPlanError.invalid(at: lines.step(i), "each step is a mapping with name and type") }
                try refuseUnknownKeys(fields, allowed: stepKeys, at: { lines.step(i, $0) }, what: "a step")
            }
        }
        let plan: RecoveryPlan
        do {
            plan = try YAMLDecoder().decode(RecoveryPlan.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw RecoveryPlanError.invalid(at: lines.at(context.codingPath), "\(Self.describe(context.codingPath)) lacks '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(type, context) {
            throw RecoveryPlanError.invalid(at: lines.at(context.codingPath), "\(Self.describe(context.codingPath)) should be \(Self.name(of: type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw RecoveryPlanError.invalid(at: lines.at(context.codingPath), "\(Self.describe(context.codingPath)) should be \(Self.name(of: type))")
        } catch let DecodingError.dataCorrupted(context) {
            throw RecoveryPlanError.invalid(at: lines.at(context.codingPath), "\(Self.describe(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw RecoveryPlanError.invalid(at: file, "\(error)")
        }
        return ParsedRecoveryPlan(plan: plan, document: text, lines: lines)
    }

    private static func refuseUnknownKeys(_ mapping: Node.Mapping, allowed: Set<String>, at: (String) -> String, what: String) throws {
        for key in mapping.keys {
            guard let k = key.string else { continue }
            if !allowed.contains(k) {
                throw RecoveryPlanError.invalid(at: at(k), "'\(k)' is not a field of \(what) (fields are \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    static func describe(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "the plan" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "a whole number"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "a list of strings"
        default: return "\(type)".contains("Array") ? "a list" : "\(type)".contains("Dictionary") ? "a mapping" : "\(type)"
        }
    }
}
