import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("ObjectName")
struct ObjectNameTests {
    static let hex = String(repeating: "0123456789abcdef", count: 4)

    static let validNames: [(ObjectKind, String)] = [
        (.data, hex), (.index, hex), (.snapshots, hex), (.keys, hex), (.dataKeys, hex), (.locks, hex),
        (.wal, "00000001/000000010000000000000001"), (.wal, "0000000A/0000000A.history"),
        (.wal, "00000001/000000010000000000000002.partial"), (.wal, "00000001/000000010000000000000002.00000028.backup"),
        (.config, ""), (.manifest, ""),
    ]

    static let invalidNames: [(ObjectKind, String)] = [
        (.data, "../../../etc/passwd"), (.data, String(hex.dropLast()) + "/"), (.data, hex.uppercased()), (.data, hex + "0"),
        (.data, ""), (.index, "x"), (.snapshots, "/" + String(hex.dropFirst())), (.locks, "prune-lock"),
        (.keys, String(hex.dropLast(2)) + ".."), (.wal, "00000001/../../../../etc/cron.d/x"), (.wal, "00000001/000000020000000000000001"),
        (.wal, "../00000001/000000010000000000000001"), (.wal, "00000001/000000010000000000000001/x"), (.wal, "00000001"),
        (.wal, "0000000a/0000000a.history"), (.wal, "00000001/000000010000000000000001\n"), (.config, "x"), (.manifest, "../x"),
    ]

    static let listedKeys: [(ObjectKind, String, Bool)] = [
        (.data, "01/\(hex)", true), (.data, "ab/\(hex)", false), (.data, "\(hex)", false), (.data, "01/../\(hex)", false),
        (.data, "01/\(hex)/", false), (.data, "01//\(hex)", false), (.wal, "00000001/000000010000000000000001", true),
        (.wal, "00000001/../../../../x", false), (.wal, "00000001/./000000010000000000000001", false), (.index, hex, true),
        (.index, "sub/\(hex)", false), (.snapshots, "..", false),
    ]

    @Test("names of the repository format are valid for their kind", arguments: validNames)
    func valid(kind: ObjectKind, name: String) throws {
        let object = try ObjectName(kind, name)
        #expect(object.name == name)
        #expect(!object.path.contains(".."))
    }

    @Test("anything else is refused by its kind, so no path can leave its folder", arguments: invalidNames)
    func invalid(kind: ObjectKind, name: String) {
        #expect(throws: StorageError.self) { try ObjectName(kind, name) }
    }

    @Test("a listed key is an object, a writer's temporary, or rejected with a reason", arguments: listedKeys)
    func classify(kind: ObjectKind, relative: String, isObject: Bool) {
        switch ObjectName.classify(kind, relative: relative) {
        case .object(let name): #expect(isObject, "\(name) should have been rejected")
        case .temporary: Issue.record("\(relative) is no temporary")
        case .invalid(let reason):
            #expect(!isObject, "\(relative) rejected: \(reason)")
            #expect(!reason.isEmpty)
        }
    }

    @Test("temporary files are skipped, at any level")
    func temporaries() {
        #expect(ObjectName.classify(.data, relative: "01/.tmp-0123456789abcdef") == .temporary)
        #expect(ObjectName.classify(.wal, relative: ".tmp/x") == .temporary)
        #expect(ObjectName.classify(.index, relative: ".tmp-0123456789abcdef") == .temporary)
    }

    @Test("a rejected key is shown escaped: no control character or quote reaches a terminal")
    func escaping() {
        let key = RejectedObjectKey(kind: .index, key: Array("index/\u{1b}[2J'\\\n".utf8) + [0xff], reason: "test", location: "/repo")
        #expect(key.key == "index/\\x1b[2J\\x27\\x5c\\x0a\\xff")
        #expect(!key.description.contains("\u{1b}"))
        #expect(!key.description.contains("\n"))
    }
}
