import Foundation
import LifeboatCore

extension ParsedRecoveryPlan {
    /// The checks a plan passes before it is stored or run: a name, steps with unique
    /// names and the fields their type needs, sources, locations and webhooks that
    /// lifeboat.yaml has, `after:` naming steps of the plan, and no cycle among them.
    /// - Throws: ``RecoveryPlanError/invalid(at:_:)`` with the file, the line and what was expected.
    public func validate(against config: LifeboatConfiguration) throws {
        let file = lines.file
        guard plan.name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
            throw RecoveryPlanError.invalid(at: lines.top("name"), "the plan's name '\(plan.name)' must be letters, digits, '.', '_' or '-'")
        }
        if let rto = plan.rto, rto.seconds == 0 { throw RecoveryPlanError.invalid(at: lines.top("rto"), "rto must be longer than 0s") }
        guard !plan.steps.isEmpty else { throw RecoveryPlanError.invalid(at: lines.top("steps"), "the plan has no steps: give at least one") }
        if let every = plan.testing?.every, every.seconds == 0 {
            throw RecoveryPlanError.invalid(at: lines.top("testing"), "testing.every must be longer than 0s")
        }
        var firstLine: [String: String] = [:]
        for (i, step) in plan.steps.enumerated() {
            let here = lines.step(i)
            if let earlier = firstLine[step.name] {
                throw RecoveryPlanError.invalid(at: lines.step(i, "name"), "step name '\(step.name)' is used twice (first at \(earlier)): names must be unique")
            }
            firstLine[step.name] = here
            try validate(step, i, config: config)
        }
        for (i, step) in plan.steps.enumerated() {
            for name in step.after ?? [] {
                guard firstLine[name] != nil else {
                    throw RecoveryPlanError.invalid(
                        at: lines.step(i, "after"), "step '\(step.name)' runs after '\(name)', which is not a step of this plan (steps are \(plan.steps.map(\.name).joined(separator: ", ")))")
                }
                guard name != step.name else { throw RecoveryPlanError.invalid(at: lines.step(i, "after"), "step '\(step.name)' cannot run after itself") }
            }
        }
        if let cycle = RecoveryGraph(plan.steps).cycle() {
            let i = plan.steps.firstIndex { $0.name == cycle[0] } ?? 0
            throw RecoveryPlanError.invalid(
                at: lines.step(i, "after"), "the steps' after: lists make a cycle (\((cycle + [cycle[0]]).joined(separator: " -> "))): a step cannot wait for itself")
        }
        _ = file
    }

    private func validate(_ step: RecoveryStep, _ i: Int, config: LifeboatConfiguration) throws {
        let here = lines.step(i)
        func require<T>(_ value: T?, _ field: String, _ what: String) throws -> T {
            guard let value else { throw RecoveryPlanError.invalid(at: here, "\(step.type.rawValue) step '\(step.name)' needs \(field): \(what)") }
            return value
        }
        func refuse(_ fields: [(String, Any?)]) throws {
            for (field, value) in fields where value != nil {
                throw RecoveryPlanError.invalid(at: lines.step(i, field), "\(field) does not apply to a \(step.type.rawValue) step ('\(step.name)')")
            }
        }
        func knownSource(_ name: String) throws -> LifeboatConfiguration.Source {
            guard let source = config.sources.first(where: { $0.name == name }) else {
                throw RecoveryPlanError.invalid(
                    at: lines.step(i, "source"),
                    "step '\(step.name)' names source '\(name)', which \(config.file) does not have (sources are \(config.sources.isEmpty ? "none" : config.sources.map(\.name).joined(separator: ", ")))")
            }
            return source
        }
        if let r = step.retries, !(0...20).contains(r) { throw RecoveryPlanError.invalid(at: lines.step(i, "retries"), "retries must be 0 to 20, not \(r)") }
        if let t = step.timeout, t.seconds == 0 { throw RecoveryPlanError.invalid(at: lines.step(i, "timeout"), "timeout must be longer than 0s") }
        let restoreFields: [(String, Any?)] = [
            ("snapshot", step.snapshot), ("target", step.target), ("location", step.location), ("toTime", step.toTime), ("toLsn", step.toLsn), ("toName", step.toName),
        ]
        let otherFields: [(String, Any?)] = [
            ("query", step.query), ("command", step.command), ("environment", step.environment), ("url", step.url), ("expectStatus", step.expectStatus),
            ("webhook", step.webhook), ("message", step.message), ("duration", step.duration),
        ]
        switch step.type {
        case .restoreBackup:
            let source = try knownSource(try require(step.source, "source", "a source of lifeboat.yaml"))
            try refuse(otherFields)
            if let name = step.location, !config.locations.contains(where: { $0.name == name }) {
                throw RecoveryPlanError.invalid(
                    at: lines.step(i, "location"),
                    "step '\(step.name)' names location '\(name)', which \(config.file) does not have (locations are \(config.locations.map(\.name).joined(separator: ", ")))")
            }
            if let target = step.target, !target.hasPrefix("/") {
                throw RecoveryPlanError.invalid(at: lines.step(i, "target"), "target must be an absolute path, not '\(target)'")
            }
            let targets = [("toTime", step.toTime), ("toLsn", step.toLsn), ("toName", step.toName)].filter { $0.1 != nil }
            if !targets.isEmpty && source.kind != .postgres {
                throw RecoveryPlanError.invalid(at: here, "toTime, toLsn and toName are for postgres sources; '\(source.name)' is \(source.kind.rawValue)")
            }
            if targets.count > 1 {
                throw RecoveryPlanError.invalid(at: lines.step(i, targets[1].0), "step '\(step.name)' gives \(targets.map(\.0).joined(separator: " and ")): give at most one recovery target")
            }
            if let time = step.toTime, ISO8601.parse(time) == nil {
                throw RecoveryPlanError.invalid(at: lines.step(i, "toTime"), "toTime '\(time)' is not a time like 2026-11-27T13:45:00Z")
            }
            if let lsn = step.toLsn, LSN(lsn) == nil {
                throw RecoveryPlanError.invalid(at: lines.step(i, "toLsn"), "toLsn '\(lsn)' is not a WAL position like 0/3000060")
            }
            if source.kind == .postgres, step.target == nil, source.pgdata == nil {
                throw RecoveryPlanError.invalid(at: here, "step '\(step.name)' needs target: the data directory to restore into (source '\(source.name)' has no pgdata)")
            }
            if source.kind == .files, step.target != nil, (source.paths ?? []).count != 1 {
                throw RecoveryPlanError.invalid(at: lines.step(i, "target"), "target needs a files source with one path; '\(source.name)' has \((source.paths ?? []).count)")
            }
        case .verifySystem:
            _ = try knownSource(try require(step.source, "source", "a source of lifeboat.yaml"))
            try refuse(restoreFields + otherFields.filter { $0.0 != "query" })
        case .runCommand:
            let command = try require(step.command, "command", "a list: the program and its arguments")
            guard let program = command.first, !program.isEmpty else {
                throw RecoveryPlanError.invalid(at: lines.step(i, "command"), "command must name a program: [program, arguments...]")
            }
            try refuse(restoreFields + otherFields.filter { $0.0 != "command" && $0.0 != "environment" })
        case .httpCheck:
            let url = try require(step.url, "url", "an http:// or https:// URL")
            guard let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
                throw RecoveryPlanError.invalid(at: lines.step(i, "url"), "url '\(url)' is not an http:// or https:// URL")
            }
            if let s = step.expectStatus, !(100...599).contains(s) {
                throw RecoveryPlanError.invalid(at: lines.step(i, "expectStatus"), "expectStatus must be an HTTP status (100 to 599), not \(s)")
            }
            try refuse(restoreFields + otherFields.filter { $0.0 != "url" && $0.0 != "expectStatus" })
        case .notify:
            let name = try require(step.webhook, "webhook", "a webhook of lifeboat.yaml")
            guard config.webhooks[name] != nil else {
                throw RecoveryPlanError.invalid(
                    at: lines.step(i, "webhook"),
                    "step '\(step.name)' names webhook '\(name)', which \(config.file) does not have (webhooks are \(config.webhooks.isEmpty ? "none" : config.webhooks.keys.sorted().joined(separator: ", ")))")
            }
            _ = try require(step.message, "message", "what to say")
            try refuse(restoreFields + otherFields.filter { $0.0 != "webhook" && $0.0 != "message" })
        case .manualApproval:
            try refuse(restoreFields + otherFields)
            if step.source != nil { try refuse([("source", step.source)]) }
        case .wait:
            _ = try require(step.duration, "duration", "how long, like 30s or 5m")
            try refuse(restoreFields + otherFields.filter { $0.0 != "duration" })
        }
        if step.type != .restoreBackup && step.type != .verifySystem, step.source != nil { try refuse([("source", step.source)]) }
    }
}
