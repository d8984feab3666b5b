#if canImport(Glibc)
import Glibc
#endif

/// A shell pattern (`*.conf`, `report-202?-*`, `/srv/*/cache`) as fnmatch(3) matches it, so
/// that backup excludes, restore selections and `find` agree on what a pattern means.
enum ShellPattern {
    static func matches(_ pattern: String, _ text: String, ignoringCase: Bool = false) -> Bool {
        fnmatch(pattern, text, ignoringCase ? caseFold : 0) == 0
    }

    /// glibc's FNM_CASEFOLD, a GNU extension its Swift module leaves out.
    private static let caseFold: Int32 = 1 << 4
}
