import Foundation

/// The steps' order as a graph: each step waits for the steps its `after:` names, or,
/// without one, for the step before it. Steps with no unfinished predecessor may run
/// side by side.
struct RecoveryGraph: Sendable {
    /// Step name -> the steps it waits for.
    let predecessors: [String: [String]]
    /// Plan order.
    let order: [String]

    init(_ steps: [RecoveryStep]) {
        var predecessors: [String: [String]] = [:]
        for (i, step) in steps.enumerated() {
            predecessors[step.name] = step.after ?? (i > 0 ? [steps[i - 1].name] : [])
        }
        self.predecessors = predecessors
        order = steps.map(\.name)
    }

    /// A cycle as the names along it in running order, from its step earliest in the plan,
    /// or nil when there is none.
    func cycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if marks[name] == .done { return nil }
            if marks[name] == .visiting {
                return Array(path[(path.firstIndex(of: name) ?? 0)...])
            }
            marks[name] = .visiting
            path.append(name)
            for p in predecessors[name] ?? [] where predecessors[p] != nil {
                if let found = visit(p) { return found }
            }
            path.removeLast()
            marks[name] = .done
            return nil
        }
        for name in order {
            // Found along "waits for" edges: reversed, it reads in running order.
            if let found = visit(name)?.reversed() {
                let cycle = Array(found)
                let start = cycle.indices.min { (order.firstIndex(of: cycle[$0]) ?? 0) < (order.firstIndex(of: cycle[$1]) ?? 0) } ?? 0
                return Array(cycle[start...] + cycle[..<start])
            }
        }
        return nil
    }

    /// The steps ready to start: not finished nor started, every predecessor finished.
    func ready(finished: Set<String>, started: Set<String>) -> [String] {
        order.filter { !finished.contains($0) && !started.contains($0) && (predecessors[$0] ?? []).allSatisfy(finished.contains) }
    }
}
