import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("SideCopyMarker")
struct SideCopyMarkerTests {
    @Test("the marker is found from archive_command's %p: relative to the data directory it runs in, or an absolute path in its pg_wal")
    func findsTheDataDirectory() throws {
        let scratch = ScratchDirectory()
        let copy = try scratch.sub("copy")
        let production = try scratch.sub("production")
        _ = try scratch.sub("copy/pg_wal")
        _ = try scratch.sub("production/pg_wal")
        try "made by a test\n".write(toFile: copy + "/" + SideCopyMarker.fileName, atomically: true, encoding: .utf8)
        let segment = "pg_wal/000000020000000000000005"
        #expect(SideCopyMarker.find(forWalFile: segment, currentDirectory: copy) == copy + "/" + SideCopyMarker.fileName)
        #expect(SideCopyMarker.find(forWalFile: copy + "/" + segment, currentDirectory: production) == copy + "/" + SideCopyMarker.fileName)
        #expect(SideCopyMarker.find(forWalFile: segment, currentDirectory: production) == nil)
        #expect(SideCopyMarker.find(forWalFile: production + "/" + segment, currentDirectory: "/") == nil)
        // A link under the marker's name counts as the marker.
        try FileTree.symlink("/nonexistent", at: production + "/" + SideCopyMarker.fileName)
        #expect(SideCopyMarker.find(forWalFile: segment, currentDirectory: production) != nil)
    }
}
