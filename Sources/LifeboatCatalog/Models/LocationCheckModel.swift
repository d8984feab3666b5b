import FluentKit
import Foundation

/// One verification of a storage location (`locations --verify`): when, and what it found.
/// The 3-2-1-1-0 verdict's "0 errors at the last verification" reads the newest per location.
final class LocationCheckModel: Model, @unchecked Sendable {
    static let schema = "location_checks"

    @ID(key: .id) var id: UUID?
    @Field(key: "location") var location: String
    @Field(key: "checked_at") var checkedAt: Date
    @Field(key: "errors") var errors: Int
    @OptionalField(key: "details") var details: String?

    init() {}
}
