import LifeboatAPI
import LifeboatCatalog
import LifeboatOperations

/// Who may call each operation of docs/openapi.yaml (issue 14, DESIGN §9): the one table,
/// read by ``APIAccessMiddleware`` before anything else runs and by the role-matrix test.
/// An operation missing from it needs admin (a new route is closed until it is named here).
/// Two operations ask for more by their body: EXECUTE mode needs admin (see ``APIHandler``).
enum APIAccess {
    enum Requirement: Sendable, Equatable {
        /// No token needed: the health check and the document.
        case open
        case role(Role)
    }

    static let requirements: [String: Requirement] = [
        Operations.GetOpenAPIDocument.id: .open,
        Operations.GetHealth.id: .open,
        Operations.PerformBackup.id: .role(.operator),
        Operations.ListBackups.id: .role(.auditor),
        Operations.GetBackup.id: .role(.auditor),
        Operations.ListSources.id: .role(.auditor),
        Operations.ListLocations.id: .role(.auditor),
        Operations.CreatePlan.id: .role(.admin),
        Operations.ListPlans.id: .role(.auditor),
        Operations.GetPlan.id: .role(.auditor),
        Operations.ListPlanRevisions.id: .role(.auditor),
        Operations.ExecuteRecovery.id: .role(.operator),
        Operations.ListExecutions.id: .role(.auditor),
        Operations.GetExecution.id: .role(.auditor),
        Operations.ApproveExecutionStep.id: .role(.operator),
        Operations.CancelExecution.id: .role(.operator),
        Operations.ResumeExecution.id: .role(.operator),
        Operations.GetReport.id: .role(.auditor),
        Operations.ListAuditEvents.id: .role(.auditor),
        Operations.VerifyAuditTrail.id: .role(.auditor),
        Operations.ListTokens.id: .role(.admin),
        Operations.CreateToken.id: .role(.admin),
        Operations.RevokeToken.id: .role(.admin),
    ]

    static func requirement(for operationID: String) -> Requirement {
        requirements[operationID] ?? .role(.admin)
    }

    /// The role a recovery in `mode` needs: a drill is an operator's, production an admin's.
    static func role(for mode: RecoveryMode) -> Role {
        mode == .execute ? .admin : .operator
    }
}
