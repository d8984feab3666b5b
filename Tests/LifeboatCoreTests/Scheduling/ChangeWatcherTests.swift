import Foundation
import LifeboatCore
import LifeboatTestSupport
import Synchronization
import Testing

/// Real folders, real inotify (and the polling fallback), the real clock with a short quiet
/// period: each test waits for the bursts it caused, never for a guessed time.
@Suite("ChangeWatcher")
struct ChangeWatcherTests {
    /// The bursts a watcher reports, received in order by the test.
    final class Bursts: Sendable {
        let stream: AsyncStream<Set<String>>
        let continuation: AsyncStream<Set<String>>.Continuation
        init() { (stream, continuation) = AsyncStream<Set<String>>.makeStream() }
    }

    /// Runs `body` while `watcher` watches; `body` reads the bursts.
    static func watching(_ watcher: ChangeWatcher, debounce: Duration = .milliseconds(200), _ body: (inout AsyncStream<Set<String>>.Iterator) async throws -> Void) async throws {
        let bursts = Bursts()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await watcher.watch(debounce: debounce) { bursts.continuation.yield($0) }
            }
            var iterator = bursts.stream.makeAsyncIterator()
            try await body(&iterator)
            group.cancelAll()
        }
    }

    @Test("writes in a watched tree, in a folder made after the start too, are reported as bursts", .timeLimit(.minutes(10)), arguments: [false, true])
    func reportsChanges(polling: Bool) async throws {
        let scratch = ScratchDirectory("watch")
        let root = try scratch.sub("conf")
        let watcher = ChangeWatcher(roots: [root], rescanInterval: .milliseconds(100), forcePolling: polling)
        try await Self.watching(watcher) { bursts in
            // The watches exist once the watcher is made: this write is seen.
            try FileTree.write(root + "/app.yaml", Array("pool: 8\n".utf8))
            let first = try #require(await bursts.next())
            #expect(first.contains(root + "/app.yaml"))
            #expect(watcher.mode == (polling ? "polling" : "inotify"))
            try FileManager.default.createDirectory(atPath: root + "/new", withIntermediateDirectories: false)
            _ = try #require(await bursts.next())
            // The new folder is watched by the time its creation was reported.
            try FileTree.write(root + "/new/late.yaml", Array("x\n".utf8))
            let late = try #require(await bursts.next())
            #expect(late.contains(root + "/new/late.yaml"))
        }
    }

    @Test("1,000 writes in a burst make at most 2 reports", .timeLimit(.minutes(10)))
    func burstOfWrites() async throws {
        let scratch = ScratchDirectory("watch")
        let root = try scratch.sub("conf")
        let watcher = ChangeWatcher(roots: [root], rescanInterval: .milliseconds(100))
        // A quiet period of a second: a loaded machine may pause the writing loop for a while.
        try await Self.watching(watcher, debounce: .seconds(1)) { bursts in
            for i in 0..<1000 { try FileTree.write(root + "/app.yaml", Array("n: \(i)\n".utf8)) }
            var reports = 0
            var burst = try #require(await bursts.next())
            while !burst.contains(root + "/marker") {
                reports += 1
                if reports == 1 {
                    // Only after the burst was reported: the marker's write ends the count.
                    try FileTree.write(root + "/marker", Array("x".utf8))
                }
                burst = try #require(await bursts.next())
            }
            #expect((1...2).contains(reports))
        }
    }

    @Test("a watched folder deleted and made again is watched again", .timeLimit(.minutes(10)))
    func recreatedRoot() async throws {
        let scratch = ScratchDirectory("watch")
        let root = try scratch.sub("conf")
        let watcher = ChangeWatcher(roots: [root], rescanInterval: .milliseconds(100))
        try await Self.watching(watcher) { bursts in
            try FileManager.default.removeItem(atPath: root)
            _ = try #require(await bursts.next())
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            // Its return is reported once it is watched again.
            let back = try #require(await bursts.next())
            #expect(back.contains(root))
            try FileTree.write(root + "/after", Array("x".utf8))
            let after = try #require(await bursts.next())
            #expect(after.contains(root + "/after"))
        }
    }
}
