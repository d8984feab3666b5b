import Foundation
import Synchronization
import Testing

@testable import LifeboatCore

@Suite("The blocking I/O pool")
struct BlockingIOQueueTests {
    @Test("run moves a call onto the pool, and runs inline there")
    func runPlacesWork() async throws {
        #expect(!BlockingIOExecutor.isCurrentThreadInPool)
        #expect(try await BlockingIOQueue.run { BlockingIOExecutor.isCurrentThreadInPool })
        let thrown = await #expect(throws: FileSystemError.self) {
            try await BlockingIOQueue.run { () -> Int in throw FileSystemError("open", RawPath("/x"), errno: ENOENT) }
        }
        #expect(thrown?.errno == ENOENT)
    }

    @Test("a walk under withExecutor stays on the pool, its child tasks too")
    func executorPreferenceCoversTheWalk() async throws {
        let onPool = try await BlockingIOQueue.withExecutor { () -> [Bool] in
            let walk = BlockingIOExecutor.isCurrentThreadInPool
            let children = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { await Task.yield(); return BlockingIOExecutor.isCurrentThreadInPool } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            return [walk] + children
        }
        #expect(onPool == Array(repeating: true, count: 9))
    }

    @Test("calls blocked on the pool leave the cooperative pool free")
    func blockedCallsDoNotStarveTasks() async throws {
        // As many blocked calls as the cooperative pool has threads: had they run there,
        // the task below could never run and the test would hang.
        let blocked = max(2, ProcessInfo.processInfo.activeProcessorCount)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let calls = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<blocked {
                    group.addTask {
                        try await BlockingIOQueue.run {
                            started.signal()
                            release.wait()
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        for _ in 0..<blocked {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async { started.wait(); c.resume() }
            }
        }
        // Every blocking call holds a pool thread now; cooperative work still runs.
        let sum = await Task { (1...1000).reduce(0, +) }.value
        #expect(sum == 500_500)
        for _ in 0..<blocked { release.signal() }
        try await calls.value
    }
}
