import FluentKit

/// The catalog's schema, one migration per version. Fluent records each applied name in
/// `_fluent_migrations`, so opening an older catalog applies only what it lacks.
/// Never edit a released migration: add the next one.
enum CatalogMigrations {
    static let all: [any AsyncMigration] = [
        CreateBackupLogV1(), CreateLocationChecksV2(), AddRunLeasesV3(), CreateLocationPrunesV4(), CreateRecoveryV5(), CreateAlertsV6(),
        CreateAccessV7(),
    ]
}

/// Version 1: the BackupLog and its per-location copies.
struct CreateBackupLogV1: AsyncMigration {
    var name: String { "lifeboat-v1-backup-log" }

    func prepare(on database: any Database) async throws {
        try await database.schema(BackupLogModel.schema)
            .id()
            .field("type", .string, .required)
            .field("schedule_type", .string)
            .field("source", .string, .required)
            .field("source_kind", .string, .required)
            .field("status", .string, .required)
            .field("stage", .string)
            .field("snapshot_id", .string)
            .field("started_at", .datetime, .required)
            .field("finished_at", .datetime)
            .field("bytes_read", .int64)
            .field("bytes_added", .int64)
            .field("files", .int64)
            .field("data_key_id", .string)
            .field("checksum", .string)
            .field("requested_by", .string, .required)
            .field("host", .string, .required)
            .field("pid", .int64, .required)
            .field("pre_check_passed", .bool)
            .field("pre_check_details", .string)
            .field("post_check_passed", .bool)
            .field("post_check_details", .string)
            .field("error", .string)
            .field("restore_tested", .bool, .required)
            .field("restore_tested_at", .datetime)
            .field("restore_test_result", .string)
            .field("restore_test_seconds", .double)
            .field("restore_test_details", .string)
            .field("restore_test_location", .string)
            .create()
        try await database.schema(BackupCopyModel.schema)
            .id()
            .field("backup_log_id", .uuid, .required, .references(BackupLogModel.schema, "id", onDelete: .cascade))
            .field("location", .string, .required)
            .field("role", .string, .required)
            .field("status", .string, .required)
            .field("verified_at", .datetime)
            .field("error", .string)
            .unique(on: "backup_log_id", "location")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BackupCopyModel.schema).delete()
        try await database.schema(BackupLogModel.schema).delete()
    }
}

/// Version 2: the record of location verifications.
struct CreateLocationChecksV2: AsyncMigration {
    var name: String { "lifeboat-v2-location-checks" }

    func prepare(on database: any Database) async throws {
        try await database.schema(LocationCheckModel.schema)
            .id()
            .field("location", .string, .required)
            .field("checked_at", .datetime, .required)
            .field("errors", .int64, .required)
            .field("details", .string)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LocationCheckModel.schema).delete()
    }
}

/// Version 3: RUNNING rows are held by a lease (owner boot id, start time, expiry) rather
/// than judged by whether a pid is alive.
struct AddRunLeasesV3: AsyncMigration {
    var name: String { "lifeboat-v3-run-leases" }

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        try await database.schema(BackupLogModel.schema).field("owner_boot_id", .string).update()
        try await database.schema(BackupLogModel.schema).field("owner_start_ticks", .int64).update()
        try await database.schema(BackupLogModel.schema).field("lease_expires_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BackupLogModel.schema).deleteField("owner_boot_id").deleteField("owner_start_ticks").deleteField("lease_expires_at").update()
    }
}

/// Version 4: the record of prunes per location, so that `run` and `log` say when each
/// location was last pruned.
struct CreateLocationPrunesV4: AsyncMigration {
    var name: String { "lifeboat-v4-location-prunes" }

    func prepare(on database: any Database) async throws {
        try await database.schema(LocationPruneModel.schema)
            .id()
            .field("location", .string, .required)
            .field("pruned_at", .datetime, .required)
            .field("packs_deleted", .int64, .required)
            .field("bytes_freed", .int64, .required)
            .field("error", .string)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LocationPruneModel.schema).delete()
    }
}

/// Version 5: disaster recovery: plan revisions, executions and their step runs.
struct CreateRecoveryV5: AsyncMigration {
    var name: String { "lifeboat-v5-recovery" }

    func prepare(on database: any Database) async throws {
        try await database.schema(RecoveryPlanModel.schema)
            .id()
            .field("name", .string, .required)
            .field("revision", .int64, .required)
            .field("document", .string, .required)
            .field("created_at", .datetime, .required)
            .field("created_by", .string, .required)
            .unique(on: "name", "revision")
            .create()
        try await database.schema(RecoveryExecutionModel.schema)
            .id()
            .field("plan", .string, .required)
            .field("plan_revision", .int64, .required)
            .field("mode", .string, .required)
            .field("status", .string, .required)
            .field("requested_by", .string, .required)
            .field("created_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("incident_time", .datetime, .required)
            .field("host", .string)
            .field("pid", .int64)
            .field("owner_boot_id", .string)
            .field("owner_start_ticks", .int64)
            .field("lease_expires_at", .datetime)
            .field("cancel_requested", .bool, .required)
            .field("sandbox", .string)
            .field("rto_target_seconds", .double)
            .field("rto_achieved_seconds", .double)
            .field("rpo_target_seconds", .double)
            .field("rpo_achieved_seconds", .double)
            .field("restore_point", .datetime)
            .field("error", .string)
            .create()
        try await database.schema(RecoveryStepRunModel.schema)
            .id()
            .field("execution_id", .uuid, .required, .references(RecoveryExecutionModel.schema, "id", onDelete: .cascade))
            .field("position", .int64, .required)
            .field("name", .string, .required)
            .field("type", .string, .required)
            .field("critical", .bool, .required)
            .field("status", .string, .required)
            .field("attempts", .int64, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("log", .string, .required)
            .field("restore_point", .datetime)
            .field("approved_by", .string)
            .field("approved_at", .datetime)
            .field("approval_comment", .string)
            .unique(on: "execution_id", "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(RecoveryStepRunModel.schema).delete()
        try await database.schema(RecoveryExecutionModel.schema).delete()
        try await database.schema(RecoveryPlanModel.schema).delete()
    }
}

/// Version 6: the daemon's alerts: open conditions, and notifications until delivered.
struct CreateAlertsV6: AsyncMigration {
    var name: String { "lifeboat-v6-alerts" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AlertModel.schema)
            .id()
            .field("condition", .string, .required)
            .field("message", .string, .required)
            .field("opened_at", .datetime, .required)
            .unique(on: "condition")
            .create()
        try await database.schema(AlertDeliveryModel.schema)
            .id()
            .field("condition", .string, .required)
            .field("event", .string, .required)
            .field("message", .string, .required)
            .field("webhook", .string, .required)
            .field("created_at", .datetime, .required)
            .field("attempts", .int64, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("delivered_at", .datetime)
            .field("last_error", .string)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AlertDeliveryModel.schema).delete()
        try await database.schema(AlertModel.schema).delete()
    }
}

/// Version 7: who may do what: bearer tokens (their hash only) and the hash-chained audit
/// trail of the calls that changed something or were refused.
struct CreateAccessV7: AsyncMigration {
    var name: String { "lifeboat-v7-access" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AccessTokenModel.schema)
            .id()
            .field("name", .string, .required)
            .field("role", .string, .required)
            .field("token_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("created_by", .string, .required)
            .field("expires_at", .datetime)
            .field("revoked_at", .datetime)
            .field("last_used_at", .datetime)
            .unique(on: "name")
            .create()
        try await database.schema(AuditEventModel.schema)
            .id()
            .field("sequence", .int64, .required)
            .field("at", .datetime, .required)
            .field("token_name", .string)
            .field("role", .string)
            .field("address", .string, .required)
            .field("method", .string, .required)
            .field("route", .string, .required)
            .field("status", .int64, .required)
            .field("outcome", .string, .required)
            .field("target", .string)
            .field("detail", .string)
            .field("previous_hash", .string, .required)
            .field("hash", .string, .required)
            .unique(on: "sequence")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AuditEventModel.schema).delete()
        try await database.schema(AccessTokenModel.schema).delete()
    }
}
