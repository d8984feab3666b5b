import Foundation

/// `check --json`, `verify --json`, `airgap verify --json` (docs/cli.md): counts under short names.
extension CheckReport: Encodable {
    enum CodingKeys: String, CodingKey { case ok, errors, warnings, snapshots, trees, packs, blobs, objects, bytesRead }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(isOK, forKey: .ok)
        try c.encode(errors, forKey: .errors)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(snapshotsChecked, forKey: .snapshots)
        try c.encode(treesChecked, forKey: .trees)
        try c.encode(packsChecked, forKey: .packs)
        try c.encode(blobsChecked, forKey: .blobs)
        try c.encode(objectsChecked, forKey: .objects)
        try c.encode(bytesRead, forKey: .bytesRead)
    }
}
