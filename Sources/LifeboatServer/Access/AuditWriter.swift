import Foundation
import LifeboatCatalog
import LifeboatOperations

/// Appends the server's audit events one at a time, in the order their requests finished:
/// each append reads the newest event and chains after it, so two at once would race for the
/// same place. (An actor alone would not do: an append suspends on the catalog, and an
/// actor runs other calls while one is suspended; the waiting list makes them take turns.)
actor AuditWriter {
    let trail: AuditTrail
    private var isWriting = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(trail: AuditTrail) {
        self.trail = trail
    }

    @discardableResult
    func append(_ event: AuditEvent.New) async throws -> AuditEvent {
        if isWriting {
            await withCheckedContinuation { waiting.append($0) }
            // The writer before this one handed its turn over: isWriting stayed true.
        } else {
            isWriting = true
        }
        defer {
            if waiting.isEmpty { isWriting = false } else { waiting.removeFirst().resume() }
        }
        return try await trail.record(event)
    }
}
