import Foundation
import LifeboatOperations
import Logging
import ServiceLifecycle

/// The alert dispatcher as one of the daemon's services: every `alerts.evaluateSeconds`, the
/// catalog's conditions and the locations' (``HealthProbe``) are compared with the open alerts and the notifications due are
/// sent. The first evaluation waits one period, so that a source's first run at start is not
/// taken for a source never backed up.
struct AlertService: Service {
    let dispatcher: AlertDispatcher
    /// The locations' state, shared with `/metrics`.
    let probe: HealthProbe
    let interval: Duration
    let clock: any Clock<Duration>
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while true {
                do { try await clock.sleep(for: interval) } catch { return }
                do {
                    let changes = try await dispatcher.evaluate(probe: probe)
                    if changes.opened + changes.resolved > 0 {
                        logger.notice("alerts: \(changes.opened) opened, \(changes.resolved) resolved")
                    }
                    try await dispatcher.deliver()
                } catch {
                    // The catalog may be busy or away for a moment; the next period tries again.
                    logger.error("alerts: \(error)")
                }
            }
        }
    }
}
