/// What `check` or `verify` found. Errors mean damage; warnings mean leftovers that harm
/// nothing (an unindexed pack from an interrupted backup, which the next backup or
/// `prune` deals with).
public struct CheckReport: Sendable {
    public var errors: [String] = []
    public var warnings: [String] = []
    public var snapshotsChecked = 0
    public var treesChecked = 0
    public var packsChecked = 0
    public var blobsChecked = 0
    public var objectsChecked = 0
    public var bytesRead: Int64 = 0

    public var isOK: Bool { errors.isEmpty }
}
