/// A storage location's role (DESIGN §5). Raw values are what lifeboat.yaml and the
/// catalog say.
public enum LocationRole: String, Codable, Sendable, CaseIterable {
    case primary = "PRIMARY"
    case secondary = "SECONDARY"
    case tertiary = "TERTIARY"
    case airGapped = "AIR_GAPPED"
}
