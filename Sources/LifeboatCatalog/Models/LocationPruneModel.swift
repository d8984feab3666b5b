import FluentKit
import Foundation

/// One prune of a storage location (by `run`'s retention or `prune --location`): when,
/// and what it removed. `run` and `log` report the newest per location.
final class LocationPruneModel: Model, @unchecked Sendable {
    static let schema = "location_prunes"

    @ID(key: .id) var id: UUID?
    @Field(key: "location") var location: String
    @Field(key: "pruned_at") var prunedAt: Date
    @Field(key: "packs_deleted") var packsDeleted: Int
    @Field(key: "bytes_freed") var bytesFreed: Int64
    /// Why the prune failed; nil when it ran.
    @OptionalField(key: "error") var error: String?

    init() {}
}
