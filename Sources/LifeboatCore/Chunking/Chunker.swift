/// Decides where chunks end. A chunker sees at most `maxChunkBytes` at a time and
/// answers how many of them form the next chunk.
public protocol Chunker: Sendable {
    var maxChunkBytes: Int { get }
    /// The length of the next chunk at the start of `window`.
    ///
    /// - Parameters:
    ///   - window: the next bytes of the stream; at least `maxChunkBytes` of them unless
    ///     the stream ends inside the window.
    ///   - isEndOfStream: whether `window` reaches the end of the stream.
    /// - Returns: a length in `1...window.count`.
    func nextChunkLength(in window: UnsafeRawBufferPointer, isEndOfStream: Bool) -> Int
}
