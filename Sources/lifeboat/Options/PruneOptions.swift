import ArgumentParser
import Foundation
import LifeboatCore

/// How `prune` and `forget --prune` spare young packs.
struct PruneOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Spare packs written within DURATION (e.g. 1h, 2d; 0 for none) and since the oldest live lock: they may belong to a backup still running.",
            valueName: "DURATION"))
    var packGrace: String = "1h"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Leave at most LIMIT unused in packs still partly in use, repacking the most unused first: N% of the repository after the prune, a size (500M, 2G) or 'unlimited'.",
            valueName: "LIMIT"))
    var maxUnused: String = "5%"

    func validate() throws {
        if gracePeriod == nil { throw ValidationError("--pack-grace '\(packGrace)' is not a duration like 1h or 2d (or 0)") }
        if unusedLimit == nil { throw ValidationError("--max-unused '\(maxUnused)' is not a limit like 5%, 500M, 2G or unlimited") }
    }

    var unusedLimit: Pruner.UnusedLimit? { Pruner.UnusedLimit(parsing: maxUnused) }

    var gracePeriod: Duration? { packGrace == "0" ? .zero : RetentionPolicy.parseDuration(packGrace) }

    /// A pruner of `repository` with these options.
    func pruner(_ repository: Repository) -> Pruner {
        var pruner = Pruner(repository: repository)
        pruner.packGracePeriod = gracePeriod ?? Pruner.defaultPackGracePeriod
        pruner.maxUnused = unusedLimit ?? .default
        return pruner
    }
}
