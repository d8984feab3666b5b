import FluentKit
import Foundation

extension Catalog {
    /// Records a prune of `location` (one that ran, or one that failed with `error`).
    public func recordPrune(_ prune: LocationPrune) async throws {
        let m = LocationPruneModel()
        m.location = prune.location
        m.prunedAt = prune.prunedAt
        m.packsDeleted = prune.packsDeleted
        m.bytesFreed = prune.bytesFreed
        m.error = prune.error
        try await perform("record the prune") { try await m.create(on: self.database) }
    }

    /// The newest prune that ran in each location (failed attempts aside), by location name.
    public func lastPrunes() async throws -> [String: LocationPrune] {
        try await perform("read the prunes") {
            var newest: [String: LocationPrune] = [:]
            for m in try await LocationPruneModel.query(on: self.database).filter(\.$error == nil).sort(\.$prunedAt, .ascending).all() {
                newest[m.location] = LocationPrune(location: m.location, prunedAt: m.prunedAt, packsDeleted: m.packsDeleted, bytesFreed: m.bytesFreed, error: nil)
            }
            return newest
        }
    }
}
