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

    func validate() throws {
        if gracePeriod == nil { throw ValidationError("--pack-grace '\(packGrace)' is not a duration like 1h or 2d (or 0)") }
    }

    var gracePeriod: Duration? { packGrace == "0" ? .zero : RetentionPolicy.parseDuration(packGrace) }

    /// A pruner of `repository` with these options.
    func pruner(_ repository: Repository) -> Pruner {
        var pruner = Pruner(repository: repository)
        pruner.packGracePeriod = gracePeriod ?? Pruner.defaultPackGracePeriod
        return pruner
    }
}
