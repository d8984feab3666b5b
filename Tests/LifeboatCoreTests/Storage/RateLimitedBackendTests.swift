import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatCore

@Suite("RateLimitedBackend")
struct RateLimitedBackendTests {
    let scratch = ScratchDirectory()

    func name(_ label: String) -> ObjectName { ObjectName.labelled(.index, label) }

    @Test("writes go at the upload rate: one second of credit, then each waits until the bytes before it have had their time")
    func uploadPace() async throws {
        let local = try LocalDirectoryBackend(path: scratch.path, create: true)
        let clock = ManualClock()
        let paced = RateLimitedBackend(local, uploadBytesPerSecond: 1000, downloadBytesPerSecond: nil, clock: clock)

        // 800 bytes fit in the first second's credit: no wait.
        try await paced.write(name("a"), bytes: [UInt8](repeating: 1, count: 800))
        // The next 1,200 bytes end 1.0 s after the credit began: 1.0 s from now.
        let second = Task { try await paced.write(name("b"), bytes: [UInt8](repeating: 2, count: 1200)) }
        await clock.sleepers(atLeast: 1)
        clock.advance(by: .milliseconds(999))
        #expect(try await local.exists(name("b")) == false, "written before its bytes had their time")
        clock.advance(by: .milliseconds(1))
        try await second.value
        #expect(try await local.read(name("b")).count == 1200)

        // Two writers at once share the rate: 500 bytes each, booked one after the other.
        let c = Task { try await paced.write(name("c"), bytes: [UInt8](repeating: 3, count: 500)) }
        let d = Task { try await paced.write(name("d"), bytes: [UInt8](repeating: 4, count: 500)) }
        await clock.sleepers(atLeast: 2)
        clock.advance(by: .milliseconds(500))
        // One of them may go now; the other only at 1.0 s.
        func written() async throws -> Int {
            try await (local.exists(name("c")) ? 1 : 0) + (local.exists(name("d")) ? 1 : 0)
        }
        while try await written() == 0 { await Task.yield() }
        #expect(try await written() == 1)
        clock.advance(by: .milliseconds(500))
        try await c.value
        try await d.value
    }

    @Test("reads pay for what arrived: the next read waits; an idle link saves at most one second")
    func downloadPace() async throws {
        let local = try LocalDirectoryBackend(path: scratch.path, create: true)
        try await local.write(name("big"), bytes: [UInt8](repeating: 7, count: 3000))
        let clock = ManualClock()
        let paced = RateLimitedBackend(local, uploadBytesPerSecond: nil, downloadBytesPerSecond: 1000, clock: clock)

        // 3,000 bytes at 1,000 B/s with one second of credit: the read returns after 2 s.
        let first = Task { try await paced.read(name("big")) }
        await clock.sleepers(atLeast: 1)
        clock.advance(by: .seconds(2))
        #expect(try await first.value.count == 3000)

        // Ten idle seconds buy one second, not ten: a 1,500-byte range waits 0.5 s.
        clock.advance(by: .seconds(10))
        let ranged = Task { try await paced.read(name("big"), offset: 0, length: 1500) }
        await clock.sleepers(atLeast: 1)
        clock.advance(by: .milliseconds(500))
        #expect(try await ranged.value.count == 1500)

        // Writes are not limited here, nor are sizes and listings.
        try await paced.write(name("free"), bytes: [UInt8](repeating: 0, count: 100_000))
        #expect(try await paced.size(of: name("free")) == 100_000)
    }
}
