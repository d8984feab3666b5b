/// What the file walk leaves out beyond the glob excludes: patterns regardless of case,
/// the contents of folders that carry a marker file, caches, other file systems.
public struct FileFilters: Sendable, Equatable {
    /// Glob patterns matched regardless of case (a `/` makes them match whole paths).
    public var excludesIgnoringCase: [String] = []
    /// File names: a folder holding one is kept with that file only (its other entries are left out).
    public var excludeIfPresent: [String] = []
    /// Folders holding a valid `CACHEDIR.TAG` (bford.info/cachedir) are kept with the tag only.
    public var excludeCaches = false
    /// Folders on another file system than their parent (mount points) are kept empty; a
    /// path named for backup is always read, whatever it is mounted on.
    public var oneFileSystem = false

    public init() {}

    /// The cache directory tag's name and the signature its content must start with.
    static let cacheTagName = Array("CACHEDIR.TAG".utf8)
    static let cacheTagSignature = Array("Signature: 8a477f597d28d172789f06886806bc55".utf8)

    /// Summaries recorded beside the excludes in the snapshot, so that what was left out stays known.
    public var recorded: [String] {
        excludesIgnoringCase.map { "iexclude:\($0)" } + excludeIfPresent.map { "exclude-if-present:\($0)" }
            + (excludeCaches ? ["exclude-caches"] : []) + (oneFileSystem ? ["one-file-system"] : [])
    }
}
