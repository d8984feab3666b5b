/// A backup stopped on request (Ctrl-C, a stop signal, a daemon shutting down), with what
/// it leaves: before its snapshot, uploaded packs that nothing refers to yet, which the next
/// backup reuses and a prune removes if none does; after it, a written snapshot whose
/// copies the next run makes.
public struct BackupInterruption: Error, Sendable, CustomStringConvertible {
    /// The last stage that finished; nil before the first.
    public var stage: String?
    /// The snapshot written before the interruption, if it got that far.
    public var snapshot: String?

    public init(stage: String? = nil, snapshot: String? = nil) {
        self.stage = stage
        self.snapshot = snapshot
    }

    public var description: String {
        let after = stage.map { " after stage \($0)" } ?? ""
        if let snapshot {
            return "interrupted\(after): the snapshot \(snapshot.prefix(8)) is written and verified; copies not yet made stay PENDING and the next run makes them"
        }
        return "interrupted\(after): no snapshot was written; the data uploaded so far stays in the repository for the next backup to reuse, and a prune removes it if no backup uses it"
    }

    /// Runs `body`; its cancellation comes out as an interruption before any stage (a
    /// backup without a record of its stages).
    public static func translating<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let interruption as BackupInterruption {
            throw interruption
        } catch {
            if error is CancellationError || Task.isCancelled { throw BackupInterruption() }
            throw error
        }
    }
}
