import LifeboatCore

extension ObjectName {
    /// A valid name of `kind` (a digest-named kind) that a test can tell apart by its label.
    public static func labelled(_ kind: ObjectKind, _ label: String) -> ObjectName {
        ObjectName(kind, Digest256.sha256(Array(label.utf8)))
    }
}
