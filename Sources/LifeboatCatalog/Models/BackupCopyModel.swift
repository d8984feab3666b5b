import FluentKit
import Foundation

/// A backup's copy in one storage location: PENDING until it arrived and was verified.
final class BackupCopyModel: Model, @unchecked Sendable {
    static let schema = "backup_copies"

    @ID(key: .id) var id: UUID?
    @Parent(key: "backup_log_id") var backup: BackupLogModel
    @Field(key: "location") var location: String
    @Field(key: "role") var role: String
    @Field(key: "status") var status: String
    @OptionalField(key: "verified_at") var verifiedAt: Date?
    @OptionalField(key: "error") var error: String?

    init() {}

    init(backupID: UUID, location: String, role: String, status: CopyStatus) {
        self.$backup.id = backupID
        self.location = location
        self.role = role
        self.status = status.rawValue
    }
}
