import FluentKit
import Foundation

extension Catalog {
    /// Stores `document` as the plan's next revision, unless it is the same text as the
    /// newest one. Returns the revision that holds it and whether it is new.
    public func addPlanRevision(name: String, document: String, by user: String, at date: Date) async throws -> (revision: RecoveryPlanRevision, isNew: Bool) {
        try await perform("store the plan revision") {
            // Read then write under the write lock: two writers of one plan at once take
            // turns, and the second numbers its revision after the first's (or finds it the same).
            try await self.writeTransaction { db in
                let newest = try await RecoveryPlanModel.query(on: db).filter(\.$name == name).sort(\.$revision, .descending).first()
                if let newest, newest.document == document { return (RecoveryPlanRevision(newest), false) }
                let m = RecoveryPlanModel()
                m.name = name
                m.revision = (newest?.revision ?? 0) + 1
                m.document = document
                m.createdAt = date
                m.createdBy = user
                try await m.create(on: db)
                return (RecoveryPlanRevision(m), true)
            }
        }
    }

    /// A plan's revision, the newest when `revision` is nil; nil when there is none.
    public func planRevision(name: String, revision: Int? = nil) async throws -> RecoveryPlanRevision? {
        try await perform("read the plan") {
            var query = RecoveryPlanModel.query(on: self.database).filter(\.$name == name)
            if let revision { query = query.filter(\.$revision == revision) }
            return try await query.sort(\.$revision, .descending).first().map(RecoveryPlanRevision.init)
        }
    }

    /// Every revision of a plan, oldest first.
    public func planRevisions(name: String) async throws -> [RecoveryPlanRevision] {
        try await perform("read the plan's revisions") {
            try await RecoveryPlanModel.query(on: self.database).filter(\.$name == name).sort(\.$revision, .ascending).all().map(RecoveryPlanRevision.init)
        }
    }

    /// The newest revision of every plan, by name.
    public func latestPlans() async throws -> [RecoveryPlanRevision] {
        try await perform("read the plans") {
            var newest: [String: RecoveryPlanModel] = [:]
            for m in try await RecoveryPlanModel.query(on: self.database).all() where (newest[m.name]?.revision ?? 0) < m.revision {
                newest[m.name] = m
            }
            return newest.keys.sorted().map { RecoveryPlanRevision(newest[$0]!) }
        }
    }
}
